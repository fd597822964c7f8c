"""The SFTP channel: a hosted server for partners (inbound/outbound mailboxes) and a client
mode for partners that host their own server.

The gateway wires it with a `SftpCollaborators` object; this package never imports storage::

    host_public_key = ensure_host_key(data_dir / "sftp" / "ssh_host_ed25519_key")
    for partner in sftp_partners:                  # before serving: settle interrupted uploads
        await recover_staging(partner, collaborators)
    server = await start_sftp_server("0.0.0.0", 2222, [host_key_path], collaborators,
                                     settings=SftpSettings(max_upload_bytes=64 << 20))
    ...
    await place_outbound(partner, "DELFOR-000123.edi", rendered_bytes)  # dispatcher
    ...
    server.close(); await server.wait_closed()

Client mode (the partner hosts the server)::

    remote = RemoteSftp(host, username, client_keys=(key_path,), host_keys=(pinned_key,))
    await poll_remote(remote, "/out", commit=commit_for(partner), after="move:/out/done")
    await push_remote(remote, "/in", "ORDERS-42.edi", rendered_bytes)
"""

from .client import PolledFile, RemoteSftp, RemoteSftpError, poll_remote, push_remote
from .mailbox import ARCHIVE, INBOUND, OUTBOUND, ensure_mailbox
from .model import SftpCollaborators, SftpPartner, SftpSettings
from .outbound import OutboundConflict, place_outbound
from .recovery import recover_staging
from .server import SftpServerHandle, ensure_host_key, start_sftp_server

__all__ = [
    "ARCHIVE",
    "INBOUND",
    "OUTBOUND",
    "OutboundConflict",
    "PolledFile",
    "RemoteSftp",
    "RemoteSftpError",
    "SftpCollaborators",
    "SftpPartner",
    "SftpServerHandle",
    "SftpSettings",
    "ensure_host_key",
    "ensure_mailbox",
    "place_outbound",
    "poll_remote",
    "push_remote",
    "recover_staging",
    "start_sftp_server",
]
