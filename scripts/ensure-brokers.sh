#!/usr/bin/env bash
# Makes sure the brokers the broker tests publish to answer on loopback: NATS with JetStream on
# 127.0.0.1:4222 and RabbitMQ on 127.0.0.1:5672 (guest/guest). Machines that already run them
# are left alone; otherwise the Debian packages are installed when missing and started here.
# Under CI=true the broker tests fail (never skip) when a broker stays unreachable.
set -euo pipefail

answers() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_for() {
  local port=$1 name=$2
  for _ in $(seq 1 60); do
    answers "$port" && return 0
    sleep 1
  done
  echo "error: $name does not answer on 127.0.0.1:$port" >&2
  return 1
}

install_missing() {
  command -v apt-get >/dev/null 2>&1 || { echo "error: $1 missing and no apt-get" >&2; exit 1; }
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$1"
}

if ! answers 4222; then
  command -v nats-server >/dev/null 2>&1 || install_missing nats-server
  store="${TMPDIR:-/tmp}/edigate-nats"
  mkdir -p "$store"
  echo "starting nats-server with JetStream on 127.0.0.1:4222"
  nohup nats-server -a 127.0.0.1 -p 4222 -js -sd "$store" >"$store/nats.log" 2>&1 &
  wait_for 4222 nats-server
fi

if ! answers 5672; then
  command -v rabbitmq-server >/dev/null 2>&1 || install_missing rabbitmq-server
  echo "starting rabbitmq-server on 127.0.0.1:5672"
  if command -v service >/dev/null 2>&1 && [ -x /etc/init.d/rabbitmq-server ]; then
    service rabbitmq-server start >/dev/null || rabbitmq-server -detached
  else
    rabbitmq-server -detached
  fi
  wait_for 5672 rabbitmq-server
fi
