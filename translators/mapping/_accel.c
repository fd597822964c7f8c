/* Optional accelerator of the mapping engine's two hot loops: splitting a scope into loop
 * instances (``partition``, engine._partition) and applying the field rules to each instance of
 * a loop without child loops (``run``: an order line is a handful of segments, a dozen rules);
 * ``fields`` applies the rules of the other scopes (messages, hierarchy levels) the same way.
 *
 * ``run`` does what engine._index and the generated per-plan ``fields`` function do for the rule
 * shapes engine._accel_plan marks as supported, reading values straight from the segment text
 * instead of splitting every segment into cell strings, and it returns the same dicts. Every
 * case it does not model goes back to Python: a whole instance when one of its segments is not
 * what the pure-Python path assumes (through ``fallback``), one rule when a candidate segment
 * has no cells (through the rule's fetch closure, with the views the Python path would build),
 * and the rules that need the scope (through ``rule`` with a scope built by ``make_scope``).
 * Converters that are not plain text, numbers, code lists or GTINs are the Python ones.
 *
 * The engine (translators/mapping/engine.py) is the reference; this file mirrors it and must
 * change with it. Without this module the engine runs the same rules in Python.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include "../cpython_slots.h"
#include <structmember.h>
#include <string.h>

/* Per instance limits: an instance beyond them is mapped by the Python path. */
#define MAX_TAGS 32
#define MAX_RECS 64
#define MAX_SEPS 2048
#define MAX_UNSPLIT 8
#define NUMBER_BUF 64
#define MAX_CODECS 4
#define MAX_LISTS 8
#define MAX_ELS 16
#define CACHE_KEY 32
#define CACHE_SLOTS 64
#define CACHE_WINDOW 256   /* look-ups a rule's hit rate is judged on */
#define CACHE_PAUSE 4096   /* conversions without the cache after a poor window */

enum { OP_INLINE = 0, OP_FETCH = 1, OP_CONST = 2, OP_INDEX = 3, OP_RULE = 4 };
enum { SH_PLAIN = 0, SH_WHERE = 1, SH_PAIRS = 2, SH_COMPOSITES = 3, SH_ELS = 4, SH_IDS = 5 };
/* SH_IDS: every item identification of the candidates (engine: _ids_fetch); conv_arg is
 * (mode, meanings, gs1 qualifiers, source tag, the _Ids type, _bad_gs1); mode 0: X12
 * qualifier/ID pairs from ``first``, 1: repeated composites (qualifier component ``qcomp``,
 * id component ``vcomp``), 2: one id (e, c) with its qualifier (we, wc; we 0: none). */
enum { IDS_PAIRS = 0, IDS_COMPOSITES = 1, IDS_SINGLE = 2 };
/* CV_CALL1 converters read the text alone (engine: parse_x12_date), CV_CALLVIEW ones the view. */
enum { CV_STRIP = 0, CV_NUMBER = 1, CV_CODE = 2, CV_GTIN = 3, CV_CALL1 = 4, CV_CALLVIEW = 5 };

static PyTypeObject PlanType;

/* memcmp(a, b, n) == 0 for the short texts compared here (tags, codes, cached values), where
 * a call to memcmp costs more than the comparison. */
static inline int
same_bytes(const void *a, const void *b, Py_ssize_t n)
{
    const unsigned char *x = a, *y = b;
    for (Py_ssize_t i = 0; i < n; i++)
        if (x[i] != y[i])
            return 0;
    return 1;
}

/* ---------------------------------------------------------------------------------------- */
/* module state: the slot offsets of Segment and ElementCodec, the helpers of the engine      */

static PyTypeObject *segment_type = NULL;
static PyTypeObject *codec_type = NULL;
static PyTypeObject *codelist_type = NULL;
static Py_ssize_t off_tag = -1, off_raw = -1, off_elements = -1, off_codec = -1;
static PyObject *fn_parse_number = NULL, *fn_code_list = NULL, *fn_gtin = NULL;
static PyObject *fn_get = NULL, *fn_put = NULL;
static PyObject *str_read = NULL, *str_empty = NULL, *str_unsplittable = NULL;
static PyObject *str_component = NULL, *str_element = NULL, *str_x12 = NULL;
static PyObject *str_codes = NULL, *str_passthrough = NULL, *str_default = NULL;
static PyObject *str_strip = NULL, *str_tag = NULL, *str_segments = NULL;
static PyObject *str_qualifier = NULL, *str_id = NULL, *str_meaning = NULL, *str_source = NULL;
static PyObject *str_segment = NULL, *str_identifiers = NULL;

static PyObject *
leaf_bind(PyObject *self, PyObject *args)
{
    PyObject *seg, *codec, *codelist, *parse_number, *code_list, *gtin, *get, *put;
    if (!PyArg_ParseTuple(args, "O!O!O!OOOOO:bind", &PyType_Type, &seg, &PyType_Type, &codec,
                          &PyType_Type, &codelist, &parse_number, &code_list, &gtin, &get,
                          &put))
        return NULL;
    Py_ssize_t t, r, e, c;
    if (slot_offset((PyTypeObject *)seg, "tag", &t) < 0
            || slot_offset((PyTypeObject *)seg, "raw", &r) < 0
            || slot_offset((PyTypeObject *)seg, "_elements", &e) < 0
            || slot_offset((PyTypeObject *)seg, "_codec", &c) < 0)
        return NULL;
    off_tag = t; off_raw = r; off_elements = e; off_codec = c;
    Py_INCREF(seg); Py_XSETREF(segment_type, (PyTypeObject *)seg);
    Py_INCREF(codec); Py_XSETREF(codec_type, (PyTypeObject *)codec);
    Py_INCREF(codelist); Py_XSETREF(codelist_type, (PyTypeObject *)codelist);
    Py_INCREF(parse_number); Py_XSETREF(fn_parse_number, parse_number);
    Py_INCREF(code_list); Py_XSETREF(fn_code_list, code_list);
    Py_INCREF(gtin); Py_XSETREF(fn_gtin, gtin);
    Py_INCREF(get); Py_XSETREF(fn_get, get);
    Py_INCREF(put); Py_XSETREF(fn_put, put);
    Py_RETURN_NONE;
}

/* ---------------------------------------------------------------------------------------- */
/* the plan                                                                                   */

typedef struct {
    int op, shape, conv, maybe, tag, any_value;
    Py_ssize_t e, c, we, wc, first, last, qcomp, vcomp;
    PyObject *allowed;   /* tuple of str (the qualifier values), or None */
    PyObject *name;      /* str, or None for a dotted path */
    PyObject *path;
    PyObject *fetch;     /* the rule's fetch closure, or None */
    PyObject *conv_arg;  /* code list name, or the converter to call */
    PyObject *compiled;  /* the CompiledRule (for ``rule``) */
    PyObject *constant;
    Py_ssize_t nels;     /* SH_ELS: the (element, component) addresses, joined with ``join`` */
    Py_ssize_t els[MAX_ELS][2];
    PyObject *join;
    /* Texts converted before and their values, for the converters whose value depends on the
     * text alone: line numbers, units, qualifiers, prices, descriptions and dates repeat from
     * line to line and from document to document, and a repeat then costs a comparison
     * instead of new objects (and the translated payloads share them). Direct-mapped by a
     * hash of the text; one-byte texts only; allocated on first use. A rule whose texts
     * rarely repeat (order numbers, part numbers) pauses its cache for a while: looking up
     * and storing every text would cost more than it saves. */
    struct CacheSlot *cache;
    int cache_tries, cache_hits, cache_paused;
} Step;

typedef struct CacheSlot {
    Py_ssize_t len;  /* -1: empty */
    Py_UCS1 key[CACHE_KEY];
    PyObject *value;  /* owned */
} CacheSlot;

typedef struct {
    PyObject_HEAD
    Py_ssize_t ntags;
    PyObject *tags[MAX_TAGS];
    Py_ssize_t nsteps;
    Step *steps;
    PyObject *source;  /* the tuples the plan was built from (they own the objects above) */
} Plan;

static void
plan_dealloc(Plan *self)
{
    for (Py_ssize_t i = 0; self->steps != NULL && i < self->nsteps; i++)
        if (self->steps[i].cache != NULL) {
            for (int k = 0; k < CACHE_SLOTS; k++)
                Py_XDECREF(self->steps[i].cache[k].value);
            PyMem_Free(self->steps[i].cache);
        }
    PyMem_Free(self->steps);
    Py_XDECREF(self->source);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int
ssize_item(PyObject *tuple, Py_ssize_t i, Py_ssize_t *out)
{
    Py_ssize_t value = PyLong_AsSsize_t(PyTuple_GET_ITEM(tuple, i));
    if (value == -1 && PyErr_Occurred())
        return -1;
    *out = value;
    return 0;
}

#define STEP_FIELDS 23

static PyObject *
plan_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    PyObject *tags, *steps;
    if (!PyArg_ParseTuple(args, "O!O!:Plan", &PyTuple_Type, &tags, &PyTuple_Type, &steps))
        return NULL;
    if (PyTuple_GET_SIZE(tags) > MAX_TAGS) {
        PyErr_SetString(PyExc_ValueError, "too many tags");
        return NULL;
    }
    Plan *self = (Plan *)type->tp_alloc(type, 0);
    if (self == NULL)
        return NULL;
    self->source = PyTuple_Pack(2, tags, steps);
    if (self->source == NULL)
        goto fail;
    self->ntags = PyTuple_GET_SIZE(tags);
    for (Py_ssize_t i = 0; i < self->ntags; i++) {
        PyObject *tag = PyTuple_GET_ITEM(tags, i);
        if (!PyUnicode_CheckExact(tag)) {
            PyErr_SetString(PyExc_TypeError, "tags must be str");
            goto fail;
        }
        self->tags[i] = tag;
    }
    self->nsteps = PyTuple_GET_SIZE(steps);
    self->steps = PyMem_Calloc(self->nsteps ? self->nsteps : 1, sizeof(Step));
    if (self->steps == NULL) {
        PyErr_NoMemory();
        goto fail;
    }
    for (Py_ssize_t i = 0; i < self->nsteps; i++) {
        PyObject *t = PyTuple_GET_ITEM(steps, i);
        Step *s = &self->steps[i];
        Py_ssize_t op, shape, conv, maybe, tag, any_value;
        if (!PyTuple_Check(t) || PyTuple_GET_SIZE(t) != STEP_FIELDS) {
            PyErr_SetString(PyExc_TypeError, "bad step");
            goto fail;
        }
        if (ssize_item(t, 0, &op) < 0 || ssize_item(t, 1, &shape) < 0
                || ssize_item(t, 2, &conv) < 0 || ssize_item(t, 3, &maybe) < 0
                || ssize_item(t, 4, &tag) < 0 || ssize_item(t, 5, &s->e) < 0
                || ssize_item(t, 6, &s->c) < 0 || ssize_item(t, 7, &s->we) < 0
                || ssize_item(t, 8, &s->wc) < 0 || ssize_item(t, 9, &any_value) < 0
                || ssize_item(t, 11, &s->first) < 0 || ssize_item(t, 12, &s->last) < 0
                || ssize_item(t, 13, &s->qcomp) < 0 || ssize_item(t, 14, &s->vcomp) < 0)
            goto fail;
        s->op = (int)op; s->shape = (int)shape; s->conv = (int)conv; s->maybe = (int)maybe;
        s->tag = (int)tag; s->any_value = (int)any_value;
        s->allowed = PyTuple_GET_ITEM(t, 10);
        s->name = PyTuple_GET_ITEM(t, 15);
        s->path = PyTuple_GET_ITEM(t, 16);
        s->fetch = PyTuple_GET_ITEM(t, 17);
        s->conv_arg = PyTuple_GET_ITEM(t, 18);
        s->compiled = PyTuple_GET_ITEM(t, 19);
        s->constant = PyTuple_GET_ITEM(t, 20);
        s->join = PyTuple_GET_ITEM(t, 22);
        PyObject *els = PyTuple_GET_ITEM(t, 21);
        if (shape == SH_ELS) {
            if (!PyTuple_Check(els) || PyTuple_GET_SIZE(els) > MAX_ELS
                    || !PyUnicode_CheckExact(s->join)) {
                PyErr_SetString(PyExc_ValueError, "unsupported els");
                goto fail;
            }
            s->nels = PyTuple_GET_SIZE(els);
            for (Py_ssize_t j = 0; j < s->nels; j++) {
                PyObject *address = PyTuple_GET_ITEM(els, j);
                if (!PyTuple_Check(address) || PyTuple_GET_SIZE(address) != 2
                        || ssize_item(address, 0, &s->els[j][0]) < 0
                        || ssize_item(address, 1, &s->els[j][1]) < 0)
                    goto fail;
                if (s->els[j][0] < 1 || s->els[j][1] < 1) {
                    PyErr_SetString(PyExc_ValueError, "unsupported els");
                    goto fail;
                }
            }
        }
        if (op < OP_INLINE || op > OP_RULE || shape < SH_PLAIN || shape > SH_IDS
                || conv < CV_STRIP || conv > CV_CALLVIEW
                || ((op == OP_INLINE || op == OP_FETCH) && (tag < 0 || tag >= self->ntags))
                || (s->name != Py_None && !PyUnicode_CheckExact(s->name))
                || (op == OP_INLINE && (s->e < 1 || s->c < 1))
                || (op == OP_INLINE && shape == SH_WHERE
                    && (s->we < 1 || s->wc < 1 || !PyTuple_Check(s->allowed)))
                || (op == OP_INLINE && shape == SH_PAIRS
                    && (s->first < 1 || !PyTuple_Check(s->allowed)))
                || (op == OP_INLINE && shape == SH_COMPOSITES
                    && (s->first < 1 || s->qcomp < 1 || s->vcomp < 1
                        || !PyTuple_Check(s->allowed)))
                || (op == OP_INLINE && shape == SH_IDS
                    && (!PyTuple_CheckExact(s->conv_arg) || PyTuple_GET_SIZE(s->conv_arg) != 6
                        || !PyLong_CheckExact(PyTuple_GET_ITEM(s->conv_arg, 0))
                        || !PyDict_CheckExact(PyTuple_GET_ITEM(s->conv_arg, 1))
                        || !PyAnySet_Check(PyTuple_GET_ITEM(s->conv_arg, 2))
                        || !PyUnicode_CheckExact(PyTuple_GET_ITEM(s->conv_arg, 3))
                        || s->first < 0 || s->qcomp < 0 || s->vcomp < 0 || s->we < 0
                        || s->wc < 0))) {
            PyErr_SetString(PyExc_ValueError, "unsupported step");
            goto fail;
        }
    }
    return (PyObject *)self;
fail:
    Py_DECREF(self);
    return NULL;
}

/* ---------------------------------------------------------------------------------------- */
/* one instance: its segments of the plan's tags, with where their elements start             */

typedef struct {
    PyObject *codec;  /* owned, like the two separators below */
    int supported;    /* 0: the Python path must map instances with this codec */
    int never;        /* cells() is None for every text (no component separator ...) */
    int x12;
    Py_UCS4 element, component;
    PyObject *element_obj, *component_obj;
    int nunsplit;
    Py_UCS4 unsplit[MAX_UNSPLIT];
    unsigned char kinds[256];  /* for one-byte texts: CH_ELEMENT, CH_UNSPLIT, CH_COMPONENT */
} CodecInfo;

enum { CH_ELEMENT = 1, CH_UNSPLIT = 2, CH_COMPONENT = 3 };

/* One code list as CodeList.read reads it: ``code_list(name)`` is cached, so one look-up per
 * run stands for one per value. */
typedef struct {
    PyObject *name;      /* borrowed from the plan */
    PyObject *list;      /* owned */
    PyObject *codes;     /* owned; NULL: not a CodeList, call its read() */
    PyObject *fallback;  /* owned: ``default`` */
    int passthrough;
} ListInfo;

typedef struct {
    PyObject *seg, *raw;  /* owned */
    CodecInfo *codec;     /* when plain */
    int plain;            /* the Python path has cells for it */
    int has_component;    /* 0: no component separator in the text (every cell is one value) */
    int next;             /* next record with the same tag, or -1 */
    Py_ssize_t sep0, nsep;  /* element separators: seps[sep0 .. sep0 + nsep) */
} Rec;

typedef struct {
    Plan *plan;
    PyObject *inst;  /* owned; NULL: segments [lo, hi) of ``source``, listed on first need */
    PyObject *source;  /* borrowed (the caller holds it for the whole run) */
    Py_ssize_t lo, hi;
    Py_ssize_t number;
    PyObject *make_scope, *rule;
    PyObject *prefix[4];  /* borrowed: leading arguments of make_scope and the fallback */
    int nprefix;
    PyObject *scope;  /* owned, built on first need */
    int nrec;
    Rec recs[MAX_RECS];
    int head[MAX_TAGS], tail[MAX_TAGS];
    PyObject *views[MAX_TAGS];  /* owned: the candidate views of a tag, built on first need */
    Py_ssize_t nseps;
    Py_ssize_t seps[MAX_SEPS];
    int ncodecs;
    CodecInfo codecs[MAX_CODECS];
    int nlists;
    ListInfo lists[MAX_LISTS];
} Inst;

static void
lists_clear(Inst *in)
{
    for (int i = 0; i < in->nlists; i++) {
        Py_DECREF(in->lists[i].list);
        Py_XDECREF(in->lists[i].codes);
        Py_XDECREF(in->lists[i].fallback);
    }
    in->nlists = 0;
}

static void
inst_clear(Inst *in)
{
    for (int i = 0; i < in->nrec; i++) {
        Py_DECREF(in->recs[i].seg);
        Py_DECREF(in->recs[i].raw);
    }
    in->nrec = 0;
    for (Py_ssize_t t = 0; t < in->plan->ntags; t++) {
        Py_CLEAR(in->views[t]);
        in->head[t] = in->tail[t] = -1;
    }
    Py_CLEAR(in->scope);
    Py_CLEAR(in->inst);
    in->nseps = 0;
}

static void
codecs_clear(Inst *in)
{
    for (int i = 0; i < in->ncodecs; i++) {
        Py_DECREF(in->codecs[i].codec);
        Py_XDECREF(in->codecs[i].component_obj);
        Py_XDECREF(in->codecs[i].element_obj);
    }
    in->ncodecs = 0;
}

static int
single_char(PyObject *text, Py_UCS4 *out)
{
    if (!PyUnicode_CheckExact(text) || PyUnicode_GET_LENGTH(text) != 1)
        return 0;
    *out = PyUnicode_READ_CHAR(text, 0);
    return 1;
}

/* What ElementCodec.cells needs to know of one codec; NULL with an exception on error. Codecs
 * stay as they were built for as long as their segments are mapped, so this is read once per
 * codec per run. */
static CodecInfo *
codec_info(Inst *in, PyObject *codec)
{
    for (int i = 0; i < in->ncodecs; i++)
        if (in->codecs[i].codec == codec)
            return &in->codecs[i];
    if (in->ncodecs == MAX_CODECS) {  /* (emptied between instances) */
        static CodecInfo unsupported;
        return &unsupported;
    }
    CodecInfo *info = &in->codecs[in->ncodecs++];
    memset(info, 0, sizeof(*info));
    info->codec = Py_NewRef(codec);
    PyObject *unsplit = NULL, *component = NULL, *element = NULL, *x12 = NULL;
    unsplit = PyObject_GetAttr(codec, str_unsplittable);
    component = unsplit ? PyObject_GetAttr(codec, str_component) : NULL;
    element = component ? PyObject_GetAttr(codec, str_element) : NULL;
    x12 = element ? PyObject_GetAttr(codec, str_x12) : NULL;
    if (x12 == NULL) {
        in->ncodecs--;
        Py_DECREF(codec);
        goto done;
    }
    info->supported = 0;
    if (!PyTuple_CheckExact(unsplit) || PyTuple_GET_SIZE(unsplit) > MAX_UNSPLIT
            || !PyUnicode_CheckExact(component) || !PyUnicode_CheckExact(element)
            || !PyBool_Check(x12))
        goto done;
    info->x12 = x12 == Py_True;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(unsplit); i++) {
        PyObject *c = PyTuple_GET_ITEM(unsplit, i);
        if (!PyUnicode_CheckExact(c))
            goto done;
        if (PyUnicode_GET_LENGTH(c) == 0)
            info->never = 1;  /* ("" in raw) */
        else if (!single_char(c, &info->unsplit[info->nunsplit++]))
            goto done;
    }
    if (PyUnicode_GET_LENGTH(component) == 0 || PyUnicode_GET_LENGTH(element) == 0)
        info->never = 1;
    else if (!single_char(component, &info->component) || !single_char(element, &info->element))
        goto done;
    info->component_obj = Py_NewRef(component);
    info->element_obj = Py_NewRef(element);
    if (info->component < 256)
        info->kinds[info->component] = CH_COMPONENT;
    if (info->element < 256)  /* (after the component: the element separator wins) */
        info->kinds[info->element] = CH_ELEMENT;
    for (int u = 0; u < info->nunsplit; u++)  /* (after the element: a release wins) */
        if (info->unsplit[u] < 256)
            info->kinds[info->unsplit[u]] = CH_UNSPLIT;
    info->supported = 1;
done:
    Py_XDECREF(unsplit);
    Py_XDECREF(component);
    Py_XDECREF(element);
    Py_XDECREF(x12);
    return x12 == NULL ? NULL : info;
}

/* Index the instance: 1 done, 0 the Python path must map it, -1 error. */
static int
inst_index(Inst *in)
{
    Plan *plan = in->plan;
    PyObject *inst = in->inst;
    Py_ssize_t first = 0, n;
    if (inst == NULL) {  /* (a run of the source list, which nothing has changed: see run_split) */
        inst = in->source;
        first = in->lo;
        n = in->hi - in->lo;
    }
    else if (!PyList_CheckExact(inst)) {
        return 0;
    }
    else {
        n = PyList_GET_SIZE(inst);
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *seg = PyList_GET_ITEM(inst, first + i);
        if (Py_TYPE(seg) != segment_type)
            return 0;
        PyObject *raw = SLOT(seg, off_raw), *elements = SLOT(seg, off_elements);
        PyObject *tag = SLOT(seg, off_tag);
        if (raw == NULL || elements == NULL || tag == NULL || !PyUnicode_CheckExact(tag))
            return 0;
        CodecInfo *codec = NULL;
        if (raw != Py_None && elements == Py_None) {
            PyObject *c = SLOT(seg, off_codec);
            if (c == NULL || (c != Py_None && Py_TYPE(c) != codec_type))
                return 0;
            if (c != Py_None) {
                if (!PyUnicode_CheckExact(raw))
                    return 0;
                codec = codec_info(in, c);
                if (codec == NULL)
                    return -1;
                if (!codec->supported)
                    return 0;
            }
        }
        /* Which of the plan's tags (an instance has few segments, a plan few tags). */
        Py_ssize_t taglen = PyUnicode_GET_LENGTH(tag);
        int kind = PyUnicode_KIND(tag);
        const void *data = PyUnicode_DATA(tag);
        int t = -1;
        for (Py_ssize_t j = 0; j < plan->ntags; j++) {
            PyObject *want = plan->tags[j];
            if (want == tag || (PyUnicode_GET_LENGTH(want) == taglen
                                && PyUnicode_KIND(want) == kind
                                && same_bytes(PyUnicode_DATA(want), data, taglen * kind))) {
                t = (int)j;
                break;
            }
        }
        if (t < 0)
            continue;
        if (in->nrec == MAX_RECS)
            return 0;
        Rec *rec = &in->recs[in->nrec];
        rec->plain = 0;
        rec->next = -1;
        rec->codec = codec;
        rec->sep0 = in->nseps;
        rec->nsep = 0;
        rec->has_component = 1;
        if (codec != NULL && !codec->never) {
            /* ElementCodec.cells: None when a release/repetition character or a line break is
             * in the text, or for the fixed-format ISA; else the split on the element
             * separator. */
            int rk = PyUnicode_KIND(raw);
            const void *rd = PyUnicode_DATA(raw);
            Py_ssize_t len = PyUnicode_GET_LENGTH(raw), full = len;
            int plain = 1;
            Py_UCS4 el = codec->element;
            if (rk == PyUnicode_1BYTE_KIND) {  /* (nearly every text: one table look-up) */
                const Py_UCS1 *bytes = rd;
                int component = 0;
                for (Py_ssize_t k = 0; k < len; k++) {
                    unsigned char kind = codec->kinds[bytes[k]];
                    if (kind == 0)
                        continue;
                    if (kind == CH_COMPONENT) {
                        component = 1;
                        continue;
                    }
                    if (kind == CH_UNSPLIT) {
                        plain = 0;
                        break;
                    }
                    if (in->nseps == MAX_SEPS)
                        return 0;
                    in->seps[in->nseps++] = k;
                }
                rec->has_component = component;
                len = 0;  /* (done) */
            }
            for (Py_ssize_t k = 0; k < len; k++) {
                Py_UCS4 ch = PyUnicode_READ(rk, rd, k);
                for (int u = 0; u < codec->nunsplit; u++)
                    if (ch == codec->unsplit[u]) {
                        plain = 0;
                        break;
                    }
                if (!plain)
                    break;
                if (ch == el) {
                    if (in->nseps == MAX_SEPS)
                        return 0;
                    in->seps[in->nseps++] = k;
                }
            }
            if (plain && codec->x12 && full >= 3 && PyUnicode_READ(rk, rd, 0) == 'I'
                    && PyUnicode_READ(rk, rd, 1) == 'S' && PyUnicode_READ(rk, rd, 2) == 'A')
                plain = 0;
            if (plain)
                rec->nsep = in->nseps - rec->sep0;
            else
                in->nseps = rec->sep0;
            rec->plain = plain;
        }
        Py_INCREF(seg);
        Py_INCREF(raw);
        rec->seg = seg;
        rec->raw = raw;
        if (in->head[t] < 0)
            in->head[t] = in->nrec;
        else
            in->recs[in->tail[t]].next = in->nrec;
        in->tail[t] = in->nrec;
        in->nrec++;
    }
    return 1;
}

/* The cells of a plain record as ElementCodec.cells returns them. */
static PyObject *
rec_cells(Rec *rec)
{
    PyObject *cells = PyUnicode_Split(rec->raw, rec->codec->element_obj, -1);
    if (cells == NULL)
        return NULL;
    Py_INCREF(rec->codec->component_obj);
    if (PyList_SetItem(cells, 0, rec->codec->component_obj) < 0) {
        Py_DECREF(cells);
        return NULL;
    }
    return cells;
}

static PyObject *
rec_view(Rec *rec)
{
    PyObject *cells;
    if (rec->plain) {
        cells = rec_cells(rec);
        if (cells == NULL)
            return NULL;
    }
    else {
        cells = Py_NewRef(Py_None);
    }
    PyObject *view = PyTuple_Pack(2, rec->seg, cells);
    Py_DECREF(cells);
    return view;
}

/* ``index.get(tag)`` of the Python path: the tag's views, built on first need. */
static PyObject *
tag_views(Inst *in, int t)
{
    if (in->views[t] != NULL)
        return in->views[t];
    PyObject *list = PyList_New(0);
    if (list == NULL)
        return NULL;
    for (int r = in->head[t]; r >= 0; r = in->recs[r].next) {
        PyObject *view = rec_view(&in->recs[r]);
        if (view == NULL || PyList_Append(list, view) < 0) {
            Py_XDECREF(view);
            Py_DECREF(list);
            return NULL;
        }
        Py_DECREF(view);
    }
    in->views[t] = list;
    return list;
}

/* ---------------------------------------------------------------------------------------- */
/* reading cells: spans [a, b) of a record's text                                             */

/* cells[n] of a plain record: 0 when the segment has no element n (IndexError). */
static int
cell_span(Inst *in, Rec *rec, Py_ssize_t n, Py_ssize_t *a, Py_ssize_t *b)
{
    if (n < 1 || n > rec->nsep)
        return 0;
    Py_ssize_t *seps = in->seps + rec->sep0;
    *a = seps[n - 1] + 1;
    *b = n < rec->nsep ? seps[n] : PyUnicode_GET_LENGTH(rec->raw);
    return 1;
}

/* Component k of the span (``s.split(component)[k - 1]``): 0 when it has fewer components. */
static int
component_span(Rec *rec, Py_ssize_t k, Py_ssize_t *a, Py_ssize_t *b)
{
    if (!rec->has_component)  /* (the whole span is component 1, and the only one) */
        return k == 1;
    int kind = PyUnicode_KIND(rec->raw);
    const void *data = PyUnicode_DATA(rec->raw);
    Py_UCS4 sep = rec->codec->component;
    Py_ssize_t start = *a, end = *b, part = 1;
    /* The same scan twice on purpose: EDI text is nearly always 1-byte (Latin-1) strings, and
     * reading their bytes directly avoids PyUnicode_READ's switch on the kind per character
     * in the innermost loop of every line; the generic loop serves the other kinds. */
    if (kind == PyUnicode_1BYTE_KIND) {
        if (sep > 255)
            return k == 1;  /* (it cannot occur: the whole span is component 1) */
        const Py_UCS1 *bytes = data;
        for (Py_ssize_t i = start; i < end; i++) {
            if (bytes[i] == sep) {
                if (part == k) {
                    *a = start;
                    *b = i;
                    return 1;
                }
                part++;
                start = i + 1;
            }
        }
        if (part == k) {
            *a = start;
            *b = end;
            return 1;
        }
        return 0;
    }
    for (Py_ssize_t i = start; i < end; i++) {
        if (PyUnicode_READ(kind, data, i) == sep) {
            if (part == k) {
                *a = start;
                *b = i;
                return 1;
            }
            part++;
            start = i + 1;
        }
    }
    if (part == k) {
        *a = start;
        *b = end;
        return 1;
    }
    return 0;
}

/* Element n, component k: 0 when missing. */
static int
read_span(Inst *in, Rec *rec, Py_ssize_t n, Py_ssize_t k, Py_ssize_t *a, Py_ssize_t *b)
{
    return cell_span(in, rec, n, a, b) && component_span(rec, k, a, b);
}

/* str.strip() of a span. */
static inline void
strip_span(Rec *rec, Py_ssize_t *a, Py_ssize_t *b)
{
    int kind = PyUnicode_KIND(rec->raw);
    const void *data = PyUnicode_DATA(rec->raw);
    if (kind == PyUnicode_1BYTE_KIND) {
        const Py_UCS1 *bytes = data;
        while (*a < *b && Py_UNICODE_ISSPACE(bytes[*a]))
            (*a)++;
        while (*b > *a && Py_UNICODE_ISSPACE(bytes[*b - 1]))
            (*b)--;
        return;
    }
    while (*a < *b && Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, *a)))
        (*a)++;
    while (*b > *a && Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, *b - 1)))
        (*b)--;
}

/* ``text in allowed`` for a span and a tuple of the allowed values (non-str never equal). */
static int
span_in(Rec *rec, Py_ssize_t a, Py_ssize_t b, PyObject *allowed)
{
    int kind = PyUnicode_KIND(rec->raw);
    const void *data = PyUnicode_DATA(rec->raw);
    Py_ssize_t len = b - a;
    if (kind == PyUnicode_1BYTE_KIND) {
        /* (a str of wider characters never equals one-byte text: kinds are minimal) */
        const Py_UCS1 *text = (const Py_UCS1 *)data + a;
        for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(allowed); i++) {
            PyObject *want = PyTuple_GET_ITEM(allowed, i);
            if (PyUnicode_Check(want) && PyUnicode_GET_LENGTH(want) == len
                    && PyUnicode_KIND(want) == PyUnicode_1BYTE_KIND
                    && same_bytes(PyUnicode_1BYTE_DATA(want), text, len))
                return 1;
        }
        return 0;
    }
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(allowed); i++) {
        PyObject *want = PyTuple_GET_ITEM(allowed, i);
        if (!PyUnicode_Check(want) || PyUnicode_GET_LENGTH(want) != len)
            continue;
        int wk = PyUnicode_KIND(want);
        const void *wd = PyUnicode_DATA(want);
        Py_ssize_t j = 0;
        while (j < len && PyUnicode_READ(wk, wd, j) == PyUnicode_READ(kind, data, a + j))
            j++;
        if (j == len)
            return 1;
    }
    return 0;
}

/* ---------------------------------------------------------------------------------------- */
/* converters                                                                                 */

/* parse_number's plain-decimal path for an ASCII text (engine: ``int(r) if r.isdigit() and
 * r.isascii() else parse_number(r)``); NULL without an exception when it does not apply. */
static PyObject *
ascii_number(Rec *rec, Py_ssize_t a, Py_ssize_t b)
{
    int kind = PyUnicode_KIND(rec->raw);
    const void *data = PyUnicode_DATA(rec->raw);
    Py_ssize_t sa = a, sb = b;
    for (Py_ssize_t i = a; i < b; i++)
        if (PyUnicode_READ(kind, data, i) > 127)
            return NULL;
    strip_span(rec, &sa, &sb);
    if (sb - sa >= NUMBER_BUF || sb == sa)
        return NULL;
    char buf[NUMBER_BUF];
    Py_ssize_t n = sb - sa, dot = -1;
    int digits = 1;
    for (Py_ssize_t i = 0; i < n; i++) {
        char ch = (char)PyUnicode_READ(kind, data, sa + i);
        if (ch == ',')
            ch = '.';
        buf[i] = ch;
        if (ch == '.' && dot < 0)
            dot = i;
        if (ch < '0' || ch > '9')
            digits = 0;
    }
    buf[n] = '\0';
    if (digits && n <= 18) {  /* (fits a long long: no text parsing by PyLong) */
        long long value = 0;
        for (Py_ssize_t i = 0; i < n; i++)
            value = value * 10 + (buf[i] - '0');
        return PyLong_FromLongLong(value);
    }
    if (digits)
        return PyLong_FromString(buf, NULL, 10);
    if (dot < 0 || dot == n - 1)
        return NULL;
    for (Py_ssize_t i = dot + 1; i < n; i++)
        if (buf[i] < '0' || buf[i] > '9')
            return NULL;
    Py_ssize_t w = buf[0] == '-' ? 1 : 0;
    if (dot == w)
        return NULL;  /* no digits before the point */
    for (Py_ssize_t i = w; i < dot; i++)
        if (buf[i] < '0' || buf[i] > '9')
            return NULL;
    int zero = 1;
    for (Py_ssize_t i = dot + 1; i < n; i++)
        if (buf[i] != '0')
            zero = 0;
    if (zero) {
        buf[dot] = '\0';
        return PyLong_FromString(buf, NULL, 10);
    }
    /* Clinger's fast path: with at most 15 digits the digits are an exact double, and so is
     * 10**k for k <= 22, so one IEEE division is the correctly rounded value strtod gives. */
    if (n - w - 1 <= 15 && n - dot - 1 <= 22) {
        double mantissa = 0.0;
        for (Py_ssize_t i = w; i < n; i++)
            if (i != dot)
                mantissa = mantissa * 10.0 + (buf[i] - '0');
        static const double powers[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9,
                                        1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18,
                                        1e19, 1e20, 1e21, 1e22};
        double quotient = mantissa / powers[n - dot - 1];
        return PyFloat_FromDouble(w ? -quotient : quotient);
    }
    double value = PyOS_string_to_double(buf, NULL, NULL);
    if (value == -1.0 && PyErr_Occurred())
        return NULL;  /* (cannot happen for these texts; the Python path then decides) */
    return PyFloat_FromDouble(value);
}

/* _gtin for an ASCII text; NULL without an exception when the text is not ASCII. */
static PyObject *
ascii_gtin(Rec *rec, Py_ssize_t a, Py_ssize_t b, int *done)
{
    int kind = PyUnicode_KIND(rec->raw);
    const void *data = PyUnicode_DATA(rec->raw);
    *done = 0;
    for (Py_ssize_t i = a; i < b; i++)
        if (PyUnicode_READ(kind, data, i) > 127)
            return NULL;
    *done = 1;
    strip_span(rec, &a, &b);
    Py_ssize_t n = b - a;
    if (n != 8 && n != 12 && n != 13 && n != 14)
        Py_RETURN_NONE;
    long total = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_UCS4 ch = PyUnicode_READ(kind, data, a + i);
        if (ch < '0' || ch > '9')
            Py_RETURN_NONE;
    }
    /* weights 3, 1, 3 ... from the right of the digits before the check digit */
    for (Py_ssize_t i = n - 2, weight = 3; i >= 0; i--, weight = 4 - weight)
        total += weight * (long)(PyUnicode_READ(kind, data, a + i) - '0');
    long check = (long)(PyUnicode_READ(kind, data, a + n - 1) - '0');
    if ((10 - total % 10) % 10 != check)
        Py_RETURN_NONE;
    return PyUnicode_Substring(rec->raw, a, b);
}

/* ``code_list(name).read(code)`` for a stripped, non-empty code (a new reference). */
static PyObject *
code_read(Inst *in, PyObject *name, PyObject *code)
{
    ListInfo *info = NULL;
    for (int i = 0; i < in->nlists; i++)
        if (in->lists[i].name == name) {
            info = &in->lists[i];
            break;
        }
    if (info == NULL) {
        PyObject *list = PyObject_CallOneArg(fn_code_list, name);
        if (list == NULL)
            return NULL;
        if (in->nlists == MAX_LISTS) {  /* (more lists than a loop uses: no caching) */
            PyObject *out = PyObject_CallMethodOneArg(list, str_read, code);
            Py_DECREF(list);
            return out;
        }
        info = &in->lists[in->nlists++];
        memset(info, 0, sizeof(*info));
        info->name = name;
        info->list = list;
        if (Py_TYPE(list) == codelist_type) {  /* (frozen: its fields stay what they are) */
            PyObject *codes = PyObject_GetAttr(list, str_codes);
            PyObject *passthrough = codes ? PyObject_GetAttr(list, str_passthrough) : NULL;
            PyObject *fallback = passthrough ? PyObject_GetAttr(list, str_default) : NULL;
            int truth = fallback ? PyObject_IsTrue(passthrough) : -1;
            Py_XDECREF(passthrough);
            if (truth < 0) {
                Py_XDECREF(codes);
                Py_XDECREF(fallback);
                in->nlists--;
                Py_DECREF(list);
                return NULL;
            }
            if (PyDict_CheckExact(codes)) {
                info->codes = codes;
                info->fallback = fallback;
                info->passthrough = truth;
            }
            else {
                Py_DECREF(codes);
                Py_DECREF(fallback);
            }
        }
    }
    if (info->codes == NULL)
        return PyObject_CallMethodOneArg(info->list, str_read, code);
    /* CodeList.read: the code's meaning, else the code itself (passthrough) or the default */
    PyObject *meaning = PyDict_GetItemWithError(info->codes, code);
    if (meaning != NULL)
        return Py_NewRef(meaning);
    if (PyErr_Occurred())
        return NULL;
    return Py_NewRef(info->passthrough ? code : info->fallback);
}

static PyObject *convert_span(Inst *in, Step *s, Rec *rec, Py_ssize_t a, Py_ssize_t b);

/* The value of a non-blank raw span through the step's converter (a new reference), from the
 * step's cache when the text was converted before. */
static PyObject *
convert(Inst *in, Step *s, Rec *rec, Py_ssize_t a, Py_ssize_t b)
{
    Py_ssize_t n = b - a;
    if (s->cache_paused > 0) {
        s->cache_paused--;
        return convert_span(in, s, rec, a, b);
    }
    if (s->conv == CV_CALLVIEW || n > CACHE_KEY || PyUnicode_KIND(rec->raw) != PyUnicode_1BYTE_KIND)
        return convert_span(in, s, rec, a, b);
    if (++s->cache_tries == CACHE_WINDOW) {  /* (fewer than 1 in 8 found: pause) */
        if (s->cache_hits < CACHE_WINDOW / 8)
            s->cache_paused = CACHE_PAUSE;
        s->cache_tries = s->cache_hits = 0;
    }
    if (s->cache == NULL) {
        s->cache = PyMem_Malloc(CACHE_SLOTS * sizeof(CacheSlot));
        if (s->cache == NULL)
            return convert_span(in, s, rec, a, b);  /* (no memory to spare: no cache) */
        for (int k = 0; k < CACHE_SLOTS; k++) {
            s->cache[k].len = -1;
            s->cache[k].value = NULL;
        }
    }
    const Py_UCS1 *text = PyUnicode_1BYTE_DATA(rec->raw) + a;
    unsigned int h = 2166136261u;  /* FNV-1a */
    for (Py_ssize_t i = 0; i < n; i++)
        h = (h ^ text[i]) * 16777619u;
    CacheSlot *slot = &s->cache[(h ^ (h >> 16)) % CACHE_SLOTS];
    if (slot->len == n && same_bytes(slot->key, text, n)) {
        s->cache_hits++;
        return Py_NewRef(slot->value);
    }
    PyObject *out = convert_span(in, s, rec, a, b);
    if (out != NULL) {
        /* The slot is whole again before the old value goes (its release runs no code of
         * ours, but it must find nothing half-written if it ever did). The text is read
         * again: the converter may have run Python code, the string itself cannot change. */
        PyObject *old = slot->value;
        slot->value = Py_NewRef(out);
        memcpy(slot->key, PyUnicode_1BYTE_DATA(rec->raw) + a, n);
        slot->len = n;
        Py_XDECREF(old);
    }
    return out;
}

/* convert() without the cache. */
static PyObject *
convert_span(Inst *in, Step *s, Rec *rec, Py_ssize_t a, Py_ssize_t b)
{
    PyObject *r, *out;
    Py_ssize_t sa = a, sb = b;
    switch (s->conv) {
    case CV_STRIP:
        strip_span(rec, &sa, &sb);
        return PyUnicode_Substring(rec->raw, sa, sb);
    case CV_NUMBER:
        out = ascii_number(rec, a, b);
        if (out != NULL || PyErr_Occurred())
            return out;
        r = PyUnicode_Substring(rec->raw, a, b);
        if (r == NULL)
            return NULL;
        out = PyObject_CallOneArg(fn_parse_number, r);
        Py_DECREF(r);
        return out;
    case CV_CODE:
        strip_span(rec, &sa, &sb);
        r = PyUnicode_Substring(rec->raw, sa, sb);
        if (r == NULL)
            return NULL;
        out = code_read(in, s->conv_arg, r);
        Py_DECREF(r);
        return out;
    case CV_GTIN: {
        int done;
        out = ascii_gtin(rec, a, b, &done);
        if (done || out != NULL)
            return out;
        r = PyUnicode_Substring(rec->raw, a, b);
        if (r == NULL)
            return NULL;
        out = PyObject_CallOneArg(fn_gtin, r);
        Py_DECREF(r);
        return out;
    }
    case CV_CALL1:
        r = PyUnicode_Substring(rec->raw, a, b);
        if (r == NULL)
            return NULL;
        out = PyObject_CallOneArg(s->conv_arg, r);
        Py_DECREF(r);
        return out;
    default: {  /* CV_CALLVIEW: the converter reads the view (EDIFACT dates: the format) */
        PyObject *view = rec_view(rec);
        if (view == NULL)
            return NULL;
        r = PyUnicode_Substring(rec->raw, a, b);
        out = r == NULL ? NULL : PyObject_CallFunctionObjArgs(s->conv_arg, view, r, NULL);
        Py_XDECREF(r);
        Py_DECREF(view);
        return out;
    }
    }
}

/* ``if not r or r.isspace(): v = None else: v = convert(r)``, for a span found (missing is
 * None too). */
static PyObject *
value_of(Inst *in, Step *s, Rec *rec, int found, Py_ssize_t a, Py_ssize_t b)
{
    if (found) {
        Py_ssize_t sa = a, sb = b;
        strip_span(rec, &sa, &sb);
        if (sa < sb)
            return convert(in, s, rec, a, b);
    }
    Py_RETURN_NONE;
}

/* _convert of a raw text that is a str already (the joined ``els``; not blank). */
static PyObject *
convert_text(Inst *in, Step *s, Rec *rec, PyObject *raw)
{
    PyObject *stripped, *out;
    switch (s->conv) {
    case CV_STRIP:
        return PyObject_CallMethodNoArgs(raw, str_strip);
    case CV_CODE:
        stripped = PyObject_CallMethodNoArgs(raw, str_strip);
        if (stripped == NULL)
            return NULL;
        out = code_read(in, s->conv_arg, stripped);
        Py_DECREF(stripped);
        return out;
    case CV_NUMBER:
        return PyObject_CallOneArg(fn_parse_number, raw);
    case CV_GTIN:
        return PyObject_CallOneArg(fn_gtin, raw);
    case CV_CALL1:
        return PyObject_CallOneArg(s->conv_arg, raw);
    default: {
        PyObject *view = rec_view(rec);
        if (view == NULL)
            return NULL;
        out = PyObject_CallFunctionObjArgs(s->conv_arg, view, raw, NULL);
        Py_DECREF(view);
        return out;
    }
    }
}

/* ---------------------------------------------------------------------------------------- */
/* the rules                                                                                  */

static PyObject *
call_fetch(Inst *in, Step *s)
{
    PyObject *views = tag_views(in, s->tag);
    if (views == NULL)
        return NULL;
    return PyObject_CallOneArg(s->fetch, views);
}

/* 1 when ``text`` is no GTIN-8/12/13/14 with a right GS1 check digit (engine: ``_gtin(text)
 * is None``), 0 when it is one, -1 with an exception. ASCII digits are checked here (weights 3,
 * 1, 3 ... from the right of the digits before the check digit); any other text is asked of
 * ``_gtin`` itself (str.isdigit() also admits other scripts' digits). */
static int
gtin_missing(PyObject *text)
{
    if (PyUnicode_IS_ASCII(text)) {
        Py_ssize_t n = PyUnicode_GET_LENGTH(text);
        const Py_UCS1 *d = PyUnicode_1BYTE_DATA(text);
        if (n != 8 && n != 12 && n != 13 && n != 14)
            return 1;
        long total = 0;
        for (Py_ssize_t i = 0; i < n; i++) {
            if (d[i] < '0' || d[i] > '9')
                return 1;
        }
        for (Py_ssize_t i = n - 2, w = 3; i >= 0; i--, w = 4 - w)
            total += (long)(d[i] - '0') * w;
        return (10 - total % 10) % 10 != (long)(d[n - 1] - '0');
    }
    PyObject *gtin = PyObject_CallOneArg(fn_gtin, text);
    if (gtin == NULL)
        return -1;
    int missing = gtin == Py_None;
    Py_DECREF(gtin);
    return missing;
}

/* One identifier (spans of the record's text) appended to ``found`` as the Python path builds
 * it: {"qualifier", "id", "meaning"?, "source"} or {"id", "source"}; a GS1 qualifier whose id
 * is no GTIN calls ``bad(tag, qualifier, id, segment)``. 0, or -1 with an exception. */
static int
ids_add(Rec *rec, PyObject *arg, PyObject *found, Py_ssize_t qa, Py_ssize_t qb,
        Py_ssize_t ia, Py_ssize_t ib)
{
    PyObject *meanings = PyTuple_GET_ITEM(arg, 1), *gs1 = PyTuple_GET_ITEM(arg, 2);
    PyObject *tag = PyTuple_GET_ITEM(arg, 3), *bad = PyTuple_GET_ITEM(arg, 5);
    PyObject *ident = PyUnicode_Substring(rec->raw, ia, ib);
    if (ident == NULL)
        return -1;
    PyObject *item = PyDict_New();
    PyObject *qualifier = NULL;
    int rc = -1;
    if (item == NULL)
        goto done;
    if (qa < qb) {
        qualifier = PyUnicode_Substring(rec->raw, qa, qb);
        if (qualifier == NULL || PyDict_SetItem(item, str_qualifier, qualifier) < 0
                || PyDict_SetItem(item, str_id, ident) < 0)
            goto done;
        PyObject *meaning = PyDict_GetItemWithError(meanings, qualifier);  /* borrowed */
        if (meaning == NULL && PyErr_Occurred())
            goto done;
        if (meaning != NULL && PyObject_IsTrue(meaning) == 1
                && PyDict_SetItem(item, str_meaning, meaning) < 0)
            goto done;
    }
    else if (PyDict_SetItem(item, str_id, ident) < 0) {
        goto done;
    }
    if (PyDict_SetItem(item, str_source, tag) < 0 || PyList_Append(found, item) < 0)
        goto done;
    if (qualifier != NULL) {
        int member = PySet_Contains(gs1, qualifier);
        if (member < 0)
            goto done;
        if (member) {
            int missing = gtin_missing(ident);
            if (missing < 0)
                goto done;
            if (missing) {
                PyObject *done_ = PyObject_CallFunctionObjArgs(bad, tag, qualifier, ident,
                                                               rec->seg, NULL);
                if (done_ == NULL)
                    goto done;
                Py_DECREF(done_);
            }
        }
    }
    rc = 0;
done:
    Py_XDECREF(qualifier);
    Py_XDECREF(item);
    Py_DECREF(ident);
    return rc;
}

/* SH_IDS: every item identification of the candidates (engine: _ids_fetch's closure). */
static PyObject *
ids_value(Inst *in, Step *s)
{
    for (int r = in->head[s->tag]; r >= 0; r = in->recs[r].next)
        if (!in->recs[r].plain)  /* (a candidate without cells: the closure does it all) */
            return call_fetch(in, s);
    PyObject *arg = s->conv_arg;
    long mode = PyLong_AsLong(PyTuple_GET_ITEM(arg, 0));
    if (mode == -1 && PyErr_Occurred())
        return NULL;
    PyObject *found = PyObject_CallNoArgs(PyTuple_GET_ITEM(arg, 4));
    if (found == NULL)
        return NULL;
    if (PyObject_SetAttr(found, str_segment, in->recs[in->head[s->tag]].seg) < 0)
        goto fail;
    for (int r = in->head[s->tag]; r >= 0; r = in->recs[r].next) {
        Rec *rec = &in->recs[r];
        Py_ssize_t qa, qb, ia, ib;
        if (mode == IDS_PAIRS) {
            Py_ssize_t stop = s->last < rec->nsep ? s->last : rec->nsep;
            for (Py_ssize_t n = s->first; n < stop; n += 2) {
                if (!(cell_span(in, rec, n, &qa, &qb) && component_span(rec, 1, &qa, &qb)))
                    qa = qb = 0;
                strip_span(rec, &qa, &qb);
                if (!(cell_span(in, rec, n + 1, &ia, &ib) && component_span(rec, 1, &ia, &ib)))
                    continue;
                strip_span(rec, &ia, &ib);
                if (ia < ib && ids_add(rec, arg, found, qa, qb, ia, ib) < 0)
                    goto fail;
            }
        }
        else if (mode == IDS_COMPOSITES) {
            Py_ssize_t stop = s->last < rec->nsep ? s->last : rec->nsep;
            for (Py_ssize_t n = s->first; n <= stop; n++) {
                if (!read_span(in, rec, n, s->qcomp, &qa, &qb))
                    qa = qb = 0;
                strip_span(rec, &qa, &qb);
                if (!read_span(in, rec, n, s->vcomp, &ia, &ib))
                    continue;
                strip_span(rec, &ia, &ib);
                if (ia < ib && ids_add(rec, arg, found, qa, qb, ia, ib) < 0)
                    goto fail;
            }
        }
        else {
            if (s->we < 1 || !read_span(in, rec, s->we, s->wc, &qa, &qb))
                qa = qb = 0;
            strip_span(rec, &qa, &qb);
            if (!read_span(in, rec, s->e, s->c, &ia, &ib))
                continue;
            strip_span(rec, &ia, &ib);
            if (ia < ib && ids_add(rec, arg, found, qa, qb, ia, ib) < 0)
                goto fail;
        }
    }
    return found;
fail:
    Py_DECREF(found);
    return NULL;
}

/* The fetch closure's value for an inline step, read from the text when the candidates it
 * reads have cells, else through the closure itself. */
static PyObject *
inline_value(Inst *in, Step *s)
{
    Rec *rec = &in->recs[in->head[s->tag]];
    Py_ssize_t a = 0, b = 0;
    int found;  /* (read before value_of's arguments: their order is unspecified) */
    switch (s->shape) {
    case SH_PLAIN:  /* the first candidate's element (engine: first) */
        if (!rec->plain)
            return call_fetch(in, s);
        found = read_span(in, rec, s->e, s->c, &a, &b);
        return value_of(in, s, rec, found, a, b);
    case SH_WHERE:  /* the first candidate with the qualifier (engine: qualified) */
        for (int r = in->head[s->tag]; r >= 0; r = in->recs[r].next) {
            rec = &in->recs[r];
            if (!rec->plain)  /* (nothing was done that the closure would not do again) */
                return call_fetch(in, s);
            if (!read_span(in, rec, s->we, s->wc, &a, &b))
                a = b = 0;
            strip_span(rec, &a, &b);
            if (!(s->any_value ? a < b : span_in(rec, a, b, s->allowed)))
                continue;
            found = read_span(in, rec, s->e, s->c, &a, &b);
            return value_of(in, s, rec, found, a, b);
        }
        Py_RETURN_NONE;
    case SH_PAIRS: {  /* X12 qualifier/value pairs of the first candidate (engine: pairs) */
        if (!rec->plain)
            return call_fetch(in, s);
        Py_ssize_t stop = s->last < rec->nsep ? s->last : rec->nsep;
        for (Py_ssize_t q = s->first; q < stop; q += 2) {
            cell_span(in, rec, q, &a, &b);
            component_span(rec, 1, &a, &b);
            strip_span(rec, &a, &b);
            if (span_in(rec, a, b, s->allowed)) {
                cell_span(in, rec, q + 1, &a, &b);
                component_span(rec, 1, &a, &b);
                return value_of(in, s, rec, 1, a, b);
            }
        }
        Py_RETURN_NONE;
    }
    case SH_ELS: {  /* elements of the first candidate, joined (engine: _raw_value) */
        if (!rec->plain)
            return call_fetch(in, s);
        PyObject *parts = PyList_New(0);
        if (parts == NULL)
            return NULL;
        for (Py_ssize_t j = 0; j < s->nels; j++) {
            if (!read_span(in, rec, s->els[j][0], s->els[j][1], &a, &b))
                continue;  /* ("") */
            strip_span(rec, &a, &b);
            if (a == b)
                continue;
            PyObject *part = PyUnicode_Substring(rec->raw, a, b);
            if (part == NULL || PyList_Append(parts, part) < 0) {
                Py_XDECREF(part);
                Py_DECREF(parts);
                return NULL;
            }
            Py_DECREF(part);
        }
        if (PyList_GET_SIZE(parts) == 0) {  /* ("" is blank) */
            Py_DECREF(parts);
            Py_RETURN_NONE;
        }
        /* Stripped, non-empty parts: the joined text is not blank. */
        PyObject *raw = PyUnicode_Join(s->join, parts);
        Py_DECREF(parts);
        if (raw == NULL)
            return NULL;
        PyObject *out = convert_text(in, s, rec, raw);
        Py_DECREF(raw);
        return out;
    }
    case SH_IDS:
        return ids_value(in, s);
    default: {  /* EDIFACT repeated composites of the first candidate (engine: _raw_value) */
        if (!rec->plain)
            return call_fetch(in, s);
        Py_ssize_t stop = s->last < rec->nsep ? s->last : rec->nsep;
        for (Py_ssize_t p = s->first; p <= stop; p++) {
            if (!read_span(in, rec, p, s->qcomp, &a, &b))
                a = b = 0;
            strip_span(rec, &a, &b);
            if (span_in(rec, a, b, s->allowed))
            {
                found = read_span(in, rec, p, s->vcomp, &a, &b);
                return value_of(in, s, rec, found, a, b);
            }
        }
        Py_RETURN_NONE;
    }
    }
}

/* The instance's segments as a list (borrowed). */
static PyObject *
inst_list(Inst *in)
{
    if (in->inst == NULL)
        in->inst = PyList_GetSlice(in->source, in->lo, in->hi);
    return in->inst;
}

/* ``fn(*in->prefix, instance, number)`` */
static PyObject *
inst_call(Inst *in, PyObject *fn)
{
    PyObject *inst = inst_list(in);
    if (inst == NULL)
        return NULL;
    PyObject *args[6];
    Py_ssize_t nargs = 0;
    for (; nargs < in->nprefix; nargs++)
        args[nargs] = in->prefix[nargs];
    PyObject *number = PyLong_FromSsize_t(in->number);
    if (number == NULL)
        return NULL;
    args[nargs++] = inst;
    args[nargs++] = number;
    PyObject *out = PyObject_Vectorcall(fn, args, nargs, NULL);
    Py_DECREF(number);
    return out;
}

static PyObject *
inst_scope(Inst *in)
{
    if (in->scope == NULL)
        in->scope = inst_call(in, in->make_scope);
    return in->scope;
}

/* ``v is not None and v != ""`` */
static int
keep(PyObject *v)
{
    if (v == Py_None)
        return 0;
    if (PyUnicode_CheckExact(v))
        return PyUnicode_GET_LENGTH(v) != 0;
    if (PyLong_CheckExact(v) || PyFloat_CheckExact(v))
        return 1;  /* (never equal to a str: the comparison below would say so, slowly) */
    return PyObject_RichCompareBool(v, str_empty, Py_NE);
}

/* The rules applied to one indexed instance, into ``out`` (the generated ``fields`` function,
 * rule by rule): 0, or -1 with an exception. */
static int
inst_fill(Inst *in, PyObject *out)
{
    Plan *plan = in->plan;
    for (Py_ssize_t i = 0; i < plan->nsteps; i++) {
        Step *s = &plan->steps[i];
        PyObject *v;
        if ((s->op == OP_INLINE || s->op == OP_FETCH) && in->head[s->tag] < 0)
            continue;  /* no candidate: the rule does nothing (asked first: it is cheaper) */
        if (s->maybe) {  /* an earlier alternative (or list) may have set it */
            int present;
            if (s->name != Py_None) {
                present = PyDict_Contains(out, s->name);
            }
            else {
                PyObject *got = PyObject_CallFunctionObjArgs(fn_get, out, s->path, NULL);
                present = got == NULL ? -1 : got != Py_None;
                Py_XDECREF(got);
            }
            if (present < 0)
                return -1;
            if (present)
                continue;
        }
        switch (s->op) {
        case OP_CONST:
            v = Py_NewRef(s->constant);
            break;
        case OP_INDEX:
            if (in->number > 0) {
                v = PyUnicode_FromFormat("%zd", in->number);
                break;
            }
            /* (a scope given by the caller: its index is the scope's to tell) */
            /* fall through */
        case OP_RULE: {
            PyObject *scope = inst_scope(in);
            v = scope == NULL ? NULL
                : PyObject_CallFunctionObjArgs(in->rule, scope, s->compiled, NULL);
            break;
        }
        case OP_FETCH:
            v = call_fetch(in, s);
            break;
        default:
            v = inline_value(in, s);
        }
        if (v == NULL)
            return -1;
        int k = keep(v);
        if (k > 0) {
            if (s->name != Py_None) {
                k = PyDict_SetItem(out, s->name, v);
            }
            else {
                PyObject *done = PyObject_CallFunctionObjArgs(fn_put, out, s->path, v, NULL);
                k = done == NULL ? -1 : 0;
                Py_XDECREF(done);
            }
        }
        Py_DECREF(v);
        if (k < 0)
            return -1;
    }
    return 0;
}

/* The item of one indexed loop instance. */
static PyObject *
inst_fields(Inst *in)
{
    /* Grown by its inserts, like the Python path's dict: _PyDict_NewPresized would save a
     * resize but (CPython 3.11/3.12) build a table for keys of any type, 30% larger than the
     * str-keyed one inserts give and slower to look up in, for every line of every payload. */
    PyObject *out = PyDict_New();
    if (out == NULL)
        return NULL;
    if (inst_fill(in, out) < 0) {
        Py_DECREF(out);
        return NULL;
    }
    return out;
}

static Inst *
inst_new(Plan *plan, PyObject *make_scope, PyObject *rule)
{
    if (segment_type == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "bind() was not called");
        return NULL;
    }
    Inst *in = PyMem_Malloc(sizeof(Inst));
    if (in == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    in->plan = plan;
    in->make_scope = make_scope;
    in->rule = rule;
    in->scope = NULL;
    in->inst = NULL;
    in->source = NULL;
    in->lo = in->hi = 0;
    in->nprefix = 0;
    in->nrec = 0;
    in->nseps = 0;
    in->ncodecs = 0;
    in->nlists = 0;
    for (Py_ssize_t t = 0; t < plan->ntags; t++) {
        in->views[t] = NULL;
        in->head[t] = in->tail[t] = -1;
    }
    return in;
}

static void
inst_free(Inst *in)
{
    inst_clear(in);
    codecs_clear(in);
    lists_clear(in);
    PyMem_Free(in);
}

/* The rules of a scope applied to its own segments, into ``out``: 1, 0 when the segments hold
 * what this module does not model (nothing done), -1 with an exception. */
static int
apply_fields(Plan *plan, PyObject *out, PyObject *segments, PyObject *scope, PyObject *rule)
{
    Inst *in = inst_new(plan, NULL, rule);
    if (in == NULL)
        return -1;
    Py_INCREF(plan);
    in->inst = Py_NewRef(segments);
    in->scope = Py_NewRef(scope);
    in->number = -1;  /* (OP_INDEX: ask the scope) */
    int indexed = inst_index(in);
    int done = indexed > 0 ? inst_fill(in, out) : indexed;
    inst_free(in);
    Py_DECREF(plan);
    return done < 0 ? -1 : indexed;
}

/* fields(plan, out, segments, scope, rule) -> bool: the rules of a scope with child loops
 * (a message, a hierarchy level) applied to its own segments, into ``out`` that holds its
 * lists; False, with nothing done, when the segments hold what this module does not model
 * (the caller then runs the Python function). */
static PyObject *
accel_fields(PyObject *module, PyObject *args)
{
    Plan *plan;
    PyObject *out, *segments, *scope, *rule;
    if (!PyArg_ParseTuple(args, "O!O!OOO:fields", &PlanType, &plan, &PyDict_Type, &out,
                          &segments, &scope, &rule))
        return NULL;
    int done = apply_fields(plan, out, segments, scope, rule);
    return done < 0 ? NULL : PyBool_FromLong(done);
}

/* Map the instance set up in ``in`` (by the rules or, when it holds what this module does not
 * model, by ``fallback``) and append its item to ``items`` unless it is empty: 0, or -1 with an
 * exception. */
static int
map_instance(Inst *in, PyObject *fallback, PyObject *items)
{
    if (in->ncodecs == MAX_CODECS)  /* (more codecs than one loop ever sees: start over) */
        codecs_clear(in);
    int indexed = inst_index(in);
    PyObject *item = indexed < 0 ? NULL : indexed ? inst_fields(in) : inst_call(in, fallback);
    inst_clear(in);
    if (item == NULL)
        return -1;
    int truth = PyDict_CheckExact(item) ? PyDict_GET_SIZE(item) != 0 : PyObject_IsTrue(item);
    if (truth > 0)
        truth = PyList_Append(items, item) < 0 ? -1 : 1;
    Py_DECREF(item);
    return truth < 0 ? -1 : 0;
}

/* run(plan, instances, fallback, make_scope, rule) -> the non-empty items, in order.
 * Instance n (1-based) is mapped here or, when it holds what this module does not model, by
 * ``fallback(instance, n)``; ``make_scope(instance, n)`` gives the Scope of the rules that
 * need one, passed to ``rule(scope, compiled_rule)``. */
static PyObject *
leaf_run(PyObject *module, PyObject *args)
{
    Plan *plan;
    PyObject *instances, *fallback, *make_scope, *rule;
    if (!PyArg_ParseTuple(args, "O!O!OOO:run", &PlanType, &plan, &PyList_Type, &instances,
                          &fallback, &make_scope, &rule))
        return NULL;
    Inst *in = inst_new(plan, make_scope, rule);
    if (in == NULL)
        return NULL;
    Py_INCREF(plan);
    Py_INCREF(instances);  /* (callbacks run Python code: nothing here may vanish) */
    PyObject *items = PyList_New(0);
    if (items == NULL)
        goto fail;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(instances); i++) {
        in->inst = Py_NewRef(PyList_GET_ITEM(instances, i));
        in->number = i + 1;
        if (map_instance(in, fallback, items) < 0)
            goto fail;
    }
    inst_free(in);
    Py_DECREF(instances);
    Py_DECREF(plan);
    return items;
fail:
    inst_free(in);
    Py_XDECREF(items);
    Py_DECREF(instances);
    Py_DECREF(plan);
    return NULL;
}

/* ---------------------------------------------------------------------------------------- */
/* partition                                                                                  */

static PyObject *
segment_tag(PyObject *seg)
{
    if (Py_TYPE(seg) == segment_type) {
        PyObject *tag = SLOT(seg, off_tag);
        if (tag != NULL)
            return Py_NewRef(tag);
    }
    return PyObject_GetAttr(seg, str_tag);  /* (raises as the Python path would) */
}

/* ``table[key]`` (a new reference): a plain dict read without the generic protocol. */
static PyObject *
lookup(PyObject *table, PyObject *key)
{
    if (!PyDict_CheckExact(table))
        return PyObject_GetItem(table, key);
    PyObject *value = PyDict_GetItemWithError(table, key);
    if (value == NULL && !PyErr_Occurred())
        PyErr_SetObject(PyExc_KeyError, key);
    return Py_XNewRef(value);
}

/* ``a == b`` for two exact str objects. */
static int
unicode_equal(PyObject *a, PyObject *b)
{
    if (a == b)
        return 1;
    Py_ssize_t n = PyUnicode_GET_LENGTH(a);
    return n == PyUnicode_GET_LENGTH(b) && PyUnicode_KIND(a) == PyUnicode_KIND(b)
        && memcmp(PyUnicode_DATA(a), PyUnicode_DATA(b), n * PyUnicode_KIND(a)) == 0;
}

/* What one pass over a scope's segments found (engine._partition): the loop instance each
 * segment belongs to (-1: the scope's own) and, per instance, its loop's name (owned) and its
 * segments [lo, hi) (an instance is always a run of consecutive segments). */
typedef struct {
    Py_ssize_t n;
    int *owner;
    Py_ssize_t ninst, cap;
    PyObject **name;
    Py_ssize_t *lo, *hi;
} Split;

static void
split_free(Split *sp)
{
    for (Py_ssize_t k = 0; k < sp->ninst; k++)
        Py_DECREF(sp->name[k]);
    PyMem_Free(sp->owner);
    PyMem_Free(sp->name);
    PyMem_Free(sp->lo);
    PyMem_Free(sp->hi);
    memset(sp, 0, sizeof(*sp));
}

/* Open instance number sp->ninst of loop ``name`` (a new reference, taken) at segment ``at``. */
static int
split_open(Split *sp, PyObject *name, Py_ssize_t at)
{
    if (sp->ninst == sp->cap) {
        Py_ssize_t cap = sp->cap ? 2 * sp->cap : 16;
        PyObject **names = PyMem_Realloc(sp->name, cap * sizeof(PyObject *));
        if (names != NULL)
            sp->name = names;
        Py_ssize_t *lo = names ? PyMem_Realloc(sp->lo, cap * sizeof(Py_ssize_t)) : NULL;
        if (lo != NULL)
            sp->lo = lo;
        Py_ssize_t *hi = lo ? PyMem_Realloc(sp->hi, cap * sizeof(Py_ssize_t)) : NULL;
        if (hi == NULL) {
            Py_DECREF(name);
            PyErr_NoMemory();
            return -1;
        }
        sp->hi = hi;
        sp->cap = cap;
    }
    sp->name[sp->ninst] = name;
    sp->lo[sp->ninst] = at;
    sp->hi[sp->ninst] = at + 1;
    sp->owner[at] = (int)sp->ninst;
    sp->ninst++;
    return 0;
}

/* What split_scope found out about a tag object before, within one call: the parser shares
 * one str per tag, so a scope asks the same few questions of the same few objects. */
#define TAG_MEMO 32

typedef struct {
    PyObject *tag, *closure;  /* owned; the question: is ``tag`` in ``closure`` (and not the
                               * loop's start tag)? */
    int member, other;
} MemberMemo;

typedef struct {
    PyObject *tag;      /* owned (so no other object can take its address meanwhile) */
    PyObject *entries;  /* owned: ``starts_by_tag.get(tag)``, or NULL for none */
} StartMemo;

static void
memos_clear(MemberMemo *members, StartMemo *starts)
{
    for (int m = 0; m < TAG_MEMO; m++) {
        Py_XDECREF(members[m].tag);
        Py_XDECREF(members[m].closure);
        Py_XDECREF(starts[m].tag);
        Py_XDECREF(starts[m].entries);
    }
}

static size_t
memo_slot(PyObject *tag)
{
    return ((size_t)(uintptr_t)tag >> 4) & (TAG_MEMO - 1);
}

/* engine._partition's loop over ``segments`` with the tables of its _Partitioner: 0, or -1
 * with an exception (``sp`` is then freed). */
static int
split_scope(PyObject *segments, PyObject *starts_by_tag, PyObject *closures,
            PyObject *start_of, PyObject *matches, Split *sp)
{
    MemberMemo members[TAG_MEMO];
    StartMemo starts[TAG_MEMO];
    memset(members, 0, sizeof(members));
    memset(starts, 0, sizeof(starts));
    memset(sp, 0, sizeof(*sp));
    if (segment_type == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "bind() was not called");
        return -1;
    }
    Py_ssize_t n = PyList_GET_SIZE(segments);
    if (n > INT_MAX) {
        PyErr_SetString(PyExc_OverflowError, "too many segments");
        return -1;
    }
    sp->n = n;
    sp->owner = PyMem_Malloc((n ? n : 1) * sizeof(int));
    if (sp->owner == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    PyObject *closure = NULL, *start = NULL, *seg = NULL, *tag = NULL, *entries = NULL;
    int open = 0;  /* an instance is open (the last one) */
    Py_INCREF(segments);
    Py_INCREF(starts_by_tag);
    for (Py_ssize_t i = 0; i < n; i++) {
        if (PyList_GET_SIZE(segments) != n) {  /* (a ``where`` callback changed it) */
            PyErr_SetString(PyExc_RuntimeError, "the segment list changed");
            goto fail;
        }
        sp->owner[i] = -1;
        seg = Py_NewRef(PyList_GET_ITEM(segments, i));
        tag = segment_tag(seg);
        if (tag == NULL)
            goto fail;
        /* Membership of the open instance wins over a sibling loop that starts with the same
         * tag (engine._partition). */
        int member = 0;
        if (open) {
            MemberMemo *memo = &members[memo_slot(tag)];
            if (memo->tag == tag && memo->closure == closure) {
                member = memo->member;
                if (member && memo->other)
                    goto joined;
            }
            else {
                member = PyAnySet_CheckExact(closure) ? PySet_Contains(closure, tag)
                    : PySequence_Contains(closure, tag);
                if (member < 0)
                    goto fail;
                int other = 0;
                if (member) {
                    other = PyUnicode_CheckExact(tag) && PyUnicode_CheckExact(start)
                        ? !unicode_equal(tag, start)
                        : PyObject_RichCompareBool(tag, start, Py_NE);
                    if (other < 0)
                        goto fail;
                }
                if (PyUnicode_CheckExact(tag)) {  /* (str: its answers cannot change) */
                    Py_XSETREF(memo->tag, Py_NewRef(tag));
                    Py_XSETREF(memo->closure, Py_NewRef(closure));
                    memo->member = member;
                    memo->other = other;
                }
                if (member && other)
                    goto joined;
            }
        }
        PyObject *opener = NULL;
        StartMemo *known = &starts[memo_slot(tag)];
        if (known->tag == tag) {
            entries = Py_XNewRef(known->entries);
        }
        else {
            entries = Py_XNewRef(PyDict_GetItemWithError(starts_by_tag, tag));
            if (entries == NULL && PyErr_Occurred())
                goto fail;
            if (PyUnicode_CheckExact(tag)) {
                Py_XSETREF(known->entries, Py_XNewRef(entries));
                Py_XSETREF(known->tag, Py_NewRef(tag));
            }
        }
        if (entries != NULL) {
            /* The _Partitioner's own table is a list of (name, where) pairs: read it in
             * place (anything else: iterate and unpack, as the Python path does). */
            int plain = PyList_CheckExact(entries);
            PyObject *iter = plain ? NULL : PyObject_GetIter(entries);
            if (!plain && iter == NULL)
                goto fail;
            for (Py_ssize_t k = 0;; k++) {
                PyObject *entry, *name, *where;
                if (plain) {
                    if (k >= PyList_GET_SIZE(entries))
                        break;
                    entry = Py_NewRef(PyList_GET_ITEM(entries, k));
                }
                else if ((entry = PyIter_Next(iter)) == NULL) {
                    break;
                }
                if (PyTuple_CheckExact(entry) && PyTuple_GET_SIZE(entry) == 2) {
                    name = PyTuple_GET_ITEM(entry, 0);
                    where = PyTuple_GET_ITEM(entry, 1);
                }
                else if (!PyArg_ParseTuple(entry, "OO", &name, &where)) {
                    Py_DECREF(entry);
                    Py_XDECREF(iter);
                    goto fail;
                }
                int ok = where == Py_None ? 0 : PyObject_IsTrue(where);
                if (ok > 0) {  /* (_matches: no condition matches) */
                    PyObject *hit = PyObject_CallFunctionObjArgs(matches, seg, where, NULL);
                    ok = hit == NULL ? -1 : PyObject_IsTrue(hit);
                    Py_XDECREF(hit);
                }
                else if (ok == 0) {
                    ok = 1;
                }
                if (ok != 0) {
                    if (ok > 0)
                        opener = Py_NewRef(name);
                    Py_DECREF(entry);
                    break;
                }
                Py_DECREF(entry);
            }
            Py_XDECREF(iter);
            if (PyErr_Occurred()) {
                Py_XDECREF(opener);
                goto fail;
            }
            Py_CLEAR(entries);
        }
        if (opener != NULL) {
            PyObject *new_closure = lookup(closures, opener);
            PyObject *new_start = new_closure ? lookup(start_of, opener) : NULL;
            if (new_start == NULL) {
                Py_XDECREF(new_closure);
                Py_DECREF(opener);
                goto fail;
            }
            Py_XSETREF(closure, new_closure);
            Py_XSETREF(start, new_start);
            if (split_open(sp, opener, i) < 0)
                goto fail;
            open = 1;
            goto next;
        }
        if (open && member)
            goto joined;
        open = 0;
        goto next;
    joined:
        sp->owner[i] = (int)(sp->ninst - 1);
        sp->hi[sp->ninst - 1] = i + 1;
    next:
        Py_CLEAR(tag);
        Py_CLEAR(seg);
    }
    if (PyList_GET_SIZE(segments) != n) {
        PyErr_SetString(PyExc_RuntimeError, "the segment list changed");
        goto fail;
    }
    memos_clear(members, starts);
    Py_XDECREF(closure);
    Py_XDECREF(start);
    Py_DECREF(segments);
    Py_DECREF(starts_by_tag);
    return 0;
fail:
    memos_clear(members, starts);
    Py_XDECREF(entries);
    Py_XDECREF(tag);
    Py_XDECREF(seg);
    Py_XDECREF(closure);
    Py_XDECREF(start);
    Py_DECREF(segments);
    Py_DECREF(starts_by_tag);
    split_free(sp);
    return -1;
}

/* The scope's own segments (owner -1), a new list. */
static PyObject *
split_own(PyObject *segments, Split *sp)
{
    PyObject *own = PyList_New(0);
    for (Py_ssize_t i = 0; own != NULL && i < sp->n; i++)
        if (sp->owner[i] < 0 && PyList_Append(own, PyList_GET_ITEM(segments, i)) < 0)
            Py_CLEAR(own);
    return own;
}

/* partition(segments, names, starts_by_tag, closures, start_of, matches) -> (own, found):
 * engine._partition's loop, with the tables of its _Partitioner. */
static PyObject *
accel_partition(PyObject *module, PyObject *args)
{
    PyObject *segments, *names, *starts_by_tag, *closures, *start_of, *matches;
    if (!PyArg_ParseTuple(args, "O!O!O!OOO:partition", &PyList_Type, &segments, &PyTuple_Type,
                          &names, &PyDict_Type, &starts_by_tag, &closures, &start_of,
                          &matches))
        return NULL;
    Split sp;
    if (split_scope(segments, starts_by_tag, closures, start_of, matches, &sp) < 0)
        return NULL;
    PyObject *own = split_own(segments, &sp), *found = own ? PyDict_New() : NULL;
    for (Py_ssize_t i = 0; found != NULL && i < PyTuple_GET_SIZE(names); i++) {
        PyObject *empty = PyList_New(0);
        if (empty == NULL || PyDict_SetItem(found, PyTuple_GET_ITEM(names, i), empty) < 0)
            Py_CLEAR(found);
        Py_XDECREF(empty);
    }
    for (Py_ssize_t k = 0; found != NULL && k < sp.ninst; k++) {
        PyObject *instances = lookup(found, sp.name[k]);
        PyObject *inst = instances ? PyList_GetSlice(segments, sp.lo[k], sp.hi[k]) : NULL;
        if (inst == NULL || PyList_Append(instances, inst) < 0)
            Py_CLEAR(found);
        Py_XDECREF(inst);
        Py_XDECREF(instances);
    }
    split_free(&sp);
    if (found == NULL) {
        Py_XDECREF(own);
        return NULL;
    }
    PyObject *out = PyTuple_Pack(2, own, found);
    Py_DECREF(own);
    Py_DECREF(found);
    return out;
}

/* The items of child loop ``name`` from the instances ``sp`` found in ``segments`` (run() without
 * the instance lists: each instance is read in place, and listed only for a Python call). */
static PyObject *
run_split(Plan *plan, PyObject *segments, Split *sp, PyObject *name, PyObject *const *prefix,
          PyObject *fallback, PyObject *make_scope, PyObject *rule)
{
    Inst *in = inst_new(plan, make_scope, rule);
    if (in == NULL)
        return NULL;
    in->source = segments;
    for (in->nprefix = 0; in->nprefix < 4; in->nprefix++)
        in->prefix[in->nprefix] = prefix[in->nprefix];
    PyObject *items = PyList_New(0);
    Py_ssize_t number = 0;
    for (Py_ssize_t k = 0; items != NULL && k < sp->ninst; k++) {
        PyObject *own = sp->name[k];
        if (own != name && !(PyUnicode_CheckExact(own) && PyUnicode_CheckExact(name)
                             && unicode_equal(own, name)))
            continue;
        if (PyList_GET_SIZE(segments) != sp->n) {  /* (a callback changed it: refuse) */
            PyErr_SetString(PyExc_RuntimeError, "the segment list changed");
            Py_CLEAR(items);
            break;
        }
        in->lo = sp->lo[k];
        in->hi = sp->hi[k];
        in->number = ++number;
        if (map_instance(in, fallback, items) < 0)
            Py_CLEAR(items);
    }
    inst_free(in);
    return items;
}

/* scope(plan, segments, starts_by_tag, closures, start_of, matches, children, scope, rule,
 *       leaf_item, leaf_scope) -> (out, done)
 * Extractor._scope for a scope whose child loops are all positional loops without child loops
 * of their own that this module maps (``children``: (name, plan, keep_empty, ScopePlan) each):
 * the partition, ``scope.segments`` set to the scope's own segments, each child's items (the
 * instances this module does not model through ``leaf_item(name, scope, ScopePlan, rule,
 * instance, n)``, their scopes from ``leaf_scope(name, scope, ScopePlan, rule, instance, n)``),
 * then the scope's own rules; ``done`` False: the caller applies those in Python. */
static PyObject *
accel_scope(PyObject *module, PyObject *args)
{
    Plan *plan;
    PyObject *segments, *starts_by_tag, *closures, *start_of, *matches, *children, *scope;
    PyObject *rule, *leaf_item, *leaf_scope;
    if (!PyArg_ParseTuple(args, "O!O!O!OOOO!OOOO:scope", &PlanType, &plan, &PyList_Type,
                          &segments, &PyDict_Type, &starts_by_tag, &closures, &start_of,
                          &matches, &PyTuple_Type, &children, &scope, &rule, &leaf_item,
                          &leaf_scope))
        return NULL;
    Split sp;
    if (split_scope(segments, starts_by_tag, closures, start_of, matches, &sp) < 0)
        return NULL;
    Py_INCREF(segments);  /* (callbacks run Python code: nothing here may vanish) */
    Py_INCREF(children);
    PyObject *out = NULL, *own = split_own(segments, &sp), *result = NULL;
    if (own == NULL || PyObject_SetAttr(scope, str_segments, own) < 0)
        goto done;
    out = PyDict_New();
    for (Py_ssize_t c = 0; out != NULL && c < PyTuple_GET_SIZE(children); c++) {
        PyObject *child = PyTuple_GET_ITEM(children, c), *name, *child_plan, *scope_plan;
        int keep_empty;
        if (!PyArg_ParseTuple(child, "OO!pO:child", &name, &PlanType, &child_plan, &keep_empty,
                              &scope_plan)) {
            Py_CLEAR(out);
            break;
        }
        PyObject *const prefix[4] = {name, scope, scope_plan, rule};  /* (the caller holds them) */
        PyObject *items = run_split((Plan *)child_plan, segments, &sp, name, prefix, leaf_item,
                                    leaf_scope, rule);
        if (items == NULL || ((PyList_GET_SIZE(items) || keep_empty)
                              && PyDict_SetItem(out, name, items) < 0))
            Py_CLEAR(out);
        Py_XDECREF(items);
    }
    if (out == NULL)
        goto done;
    int filled = apply_fields(plan, out, own, scope, rule);
    if (filled >= 0)
        result = Py_BuildValue("(OO)", out, filled ? Py_True : Py_False);
done:
    split_free(&sp);
    Py_XDECREF(own);
    Py_XDECREF(out);
    Py_DECREF(children);
    Py_DECREF(segments);
    return result;
}

/* ---------------------------------------------------------------------------------------- */
/* fill_lines: engine._fill_line for every dict of a list of lines                            */

#define MAX_FILL 32

/* One line (engine._fill_line): pop the hidden per-source lists (``keys``, in source order),
 * join them into ``identifiers``, and fill each convenient field from the best-ranked
 * qualifier of ``table`` (qualifier -> ((field, rank), ...)) unless the line has it already;
 * a line with none calls ``no_identifier(item, segment)``. 0, or -1 with an exception. */
static int
fill_line(PyObject *item, PyObject *table, PyObject *keys, PyObject *no_identifier)
{
    PyObject *ids = NULL, *segment = NULL;
    Py_ssize_t nkeys = PyTuple_GET_SIZE(keys);
    int rc = -1;
    for (Py_ssize_t k = 0; k < nkeys; k++) {
        PyObject *key = PyTuple_GET_ITEM(keys, k);
        PyObject *part = PyDict_GetItemWithError(item, key);
        if (part == NULL) {
            if (PyErr_Occurred())
                goto done;
            continue;
        }
        Py_INCREF(part);
        if (PyDict_DelItem(item, key) < 0) {
            Py_DECREF(part);
            goto done;
        }
        if (part == Py_None) {
            Py_DECREF(part);
            continue;
        }
        if (segment == NULL) {
            segment = PyObject_GetAttr(part, str_segment);
            if (segment == NULL) {
                Py_DECREF(part);
                goto done;
            }
        }
        int truth = PyObject_IsTrue(part);
        if (truth < 0) {
            Py_DECREF(part);
            goto done;
        }
        if (truth) {
            if (ids == NULL) {
                ids = part;  /* (the reference moves) */
                continue;
            }
            Py_ssize_t end = PyList_GET_SIZE(ids);
            if (PyList_SetSlice(ids, end, end, part) < 0) {
                Py_DECREF(part);
                goto done;
            }
        }
        Py_DECREF(part);
    }
    if (ids == NULL) {
        if (nkeys) {
            PyObject *r = PyObject_CallFunctionObjArgs(no_identifier, item,
                                                       segment ? segment : Py_None, NULL);
            if (r == NULL)
                goto done;
            Py_DECREF(r);
        }
        rc = 0;
        goto done;
    }
    PyObject *copy = PySequence_List(ids);
    if (copy == NULL)
        goto done;
    Py_ssize_t n = PyList_GET_SIZE(copy);
    int failed = PyDict_SetItem(item, str_identifiers, copy) < 0;
    if (failed) {
        Py_DECREF(copy);
        goto done;
    }
    /* best[name] = (rank, id), in the order names are first set (as the dict of the engine) */
    PyObject *names[MAX_FILL], *values[MAX_FILL];
    Py_ssize_t ranks[MAX_FILL];
    int count = 0;
    for (Py_ssize_t i = 0; i < n && !failed; i++) {
        PyObject *ident = PyList_GET_ITEM(copy, i);
        if (!PyDict_Check(ident))
            continue;
        PyObject *qualifier = PyDict_GetItemWithError(ident, str_qualifier);
        if (qualifier == NULL && PyErr_Occurred()) {
            failed = 1;
            break;
        }
        PyObject *entries = PyDict_GetItemWithError(table, qualifier ? qualifier : Py_None);
        if (entries == NULL) {
            if (PyErr_Occurred())
                failed = 1;
            continue;
        }
        for (Py_ssize_t e = 0; e < PyTuple_GET_SIZE(entries); e++) {
            PyObject *entry = PyTuple_GET_ITEM(entries, e);
            PyObject *name = PyTuple_GET_ITEM(entry, 0);
            Py_ssize_t rank = PyLong_AsSsize_t(PyTuple_GET_ITEM(entry, 1));
            int at = -1;
            for (int j = 0; j < count; j++) {
                int same = names[j] == name ? 1 : PyObject_RichCompareBool(names[j], name, Py_EQ);
                if (same < 0) {
                    failed = 1;
                    break;
                }
                if (same) {
                    at = j;
                    break;
                }
            }
            if (failed)
                break;
            if (at >= 0 && ranks[at] <= rank)
                continue;
            PyObject *value = PyDict_GetItemWithError(ident, str_id);
            if (value == NULL) {
                if (!PyErr_Occurred())
                    PyErr_SetObject(PyExc_KeyError, str_id);
                failed = 1;
                break;
            }
            if (at < 0) {
                if (count == MAX_FILL) {
                    PyErr_SetString(PyExc_ValueError, "too many convenient fields");
                    failed = 1;
                    break;
                }
                at = count++;
                names[at] = name;
            }
            ranks[at] = rank;
            values[at] = value;
        }
    }
    for (int j = 0; j < count && !failed; j++) {
        int has = PyDict_Contains(item, names[j]);
        if (has < 0 || (!has && PyDict_SetItem(item, names[j], values[j]) < 0))
            failed = 1;
    }
    Py_DECREF(copy);
    rc = failed ? -1 : 0;
done:
    Py_XDECREF(ids);
    Py_XDECREF(segment);
    return rc;
}

static PyObject *
accel_fill_lines(PyObject *self, PyObject *args)
{
    PyObject *items, *table, *keys, *no_identifier;
    if (!PyArg_ParseTuple(args, "O!O!O!O:fill_lines", &PyList_Type, &items, &PyDict_Type,
                          &table, &PyTuple_Type, &keys, &no_identifier))
        return NULL;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(items); i++) {
        PyObject *item = PyList_GET_ITEM(items, i);
        if (!PyDict_Check(item))
            continue;
        Py_INCREF(item);
        int rc = fill_line(item, table, keys, no_identifier);
        Py_DECREF(item);
        if (rc < 0)
            return NULL;
    }
    Py_RETURN_NONE;
}

/* ---------------------------------------------------------------------------------------- */

static PyTypeObject PlanType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "translators.mapping._accel.Plan",
    .tp_basicsize = sizeof(Plan),
    .tp_dealloc = (destructor)plan_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = PyDoc_STR("Plan(tags, steps): the field rules of one leaf loop, for run()."),
    .tp_new = plan_new,
};

static PyMethodDef leaf_methods[] = {
    {"bind", leaf_bind, METH_VARARGS,
     PyDoc_STR("bind(Segment, ElementCodec, parse_number, code_list, gtin, get, put)")},
    {"fields", accel_fields, METH_VARARGS,
     PyDoc_STR("fields(plan, out, segments, scope, rule) -> bool")},
    {"partition", accel_partition, METH_VARARGS,
     PyDoc_STR("partition(segments, names, starts_by_tag, closures, start_of, matches)")},
    {"scope", accel_scope, METH_VARARGS,
     PyDoc_STR("scope(plan, segments, starts_by_tag, closures, start_of, matches, children, "
               "scope, rule, leaf_item, leaf_scope) -> (out, done)")},
    {"fill_lines", accel_fill_lines, METH_VARARGS,
     PyDoc_STR("fill_lines(items, table, keys, no_identifier): engine._fill_line per item")},
    {"run", leaf_run, METH_VARARGS,
     PyDoc_STR("run(plan, instances, fallback, make_scope, rule) -> items")},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef accel_module = {
    PyModuleDef_HEAD_INIT, "translators.mapping._accel",
    PyDoc_STR("C accelerator of the mapping engine's leaf loops (optional)."), -1, leaf_methods,
};

PyMODINIT_FUNC
PyInit__accel(void)
{
    if (PyType_Ready(&PlanType) < 0)
        return NULL;
#define INTERN(var, text) if ((var = PyUnicode_InternFromString(text)) == NULL) return NULL
    INTERN(str_read, "read");
    INTERN(str_empty, "");
    INTERN(str_unsplittable, "_unsplittable");
    INTERN(str_component, "component");
    INTERN(str_element, "element");
    INTERN(str_x12, "x12");
    INTERN(str_codes, "codes");
    INTERN(str_passthrough, "passthrough");
    INTERN(str_default, "default");
    INTERN(str_strip, "strip");
    INTERN(str_tag, "tag");
    INTERN(str_segments, "segments");
    INTERN(str_qualifier, "qualifier");
    INTERN(str_id, "id");
    INTERN(str_meaning, "meaning");
    INTERN(str_source, "source");
    INTERN(str_segment, "segment");
    INTERN(str_identifiers, "identifiers");
#undef INTERN
    PyObject *module = PyModule_Create(&accel_module);
    if (module == NULL)
        return NULL;
    Py_INCREF(&PlanType);
    if (PyModule_AddObject(module, "Plan", (PyObject *)&PlanType) < 0) {
        Py_DECREF(&PlanType);
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
