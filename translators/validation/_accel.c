/* Optional accelerator of validation's success path: ``clean(plan, texts)`` answers one
 * question, "would check_segment find no issue in any of these segment texts?", and nothing
 * else. True is a promise; False only means "ask Python": the compiled patterns and then the
 * element checks of translators/validation (the reference, which this file mirrors and must
 * change with) look at the message again and produce the issues. So the error model lives in
 * Python alone, and every text this file does not model is simply answered False: a release
 * character at the end or in the tag, a repetition separator, a line break, a text longer than
 * MAX_TEXT, characters beyond Latin-1, and non-ASCII characters in numeric or alphabetic values.
 *
 * ``Plan(element, component, repetition, release, segments)`` holds the segment definitions of
 * one grammar for one delimiter set, as fast.py's ``_accel_plan`` lays them out;
 * ``clean_segments(plan, segments)`` asks the same of a message's parsed segments, reading their
 * text from Segment's slots (``bind(Segment)`` finds them) and answering False for a segment that
 * was decoded (its elements may have been changed in place).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include "../cpython_slots.h"
#include <structmember.h>
#include <string.h>

/* Longer segment texts are left to Python (the buffers below live on the stack). */
#define MAX_TEXT 1024

/* What _check_type does per element type (fast.py's _CHECK_* numbers). */
enum { CK_NONE = 0, CK_X12_DATE = 1, CK_X12_TIME = 2, CK_X12_INT = 3, CK_X12_REAL = 4,
       CK_EDIFACT_NUMERIC = 5, CK_EDIFACT_ALPHA = 6 };
/* Element usage: optional, not used (or never allowed to be present), mandatory. */
enum { REQ_OPTIONAL = 0, REQ_NOT_USED = 1, REQ_MANDATORY = 2 };

/* The one-byte codes of a code list in an open-addressing table, so that a value is looked up
 * from its decoded characters without building a str (and hashing it) per coded element. A
 * code of wider characters can never equal a one-byte text, so it is left out. */
typedef struct {
    size_t mask;              /* slots - 1 (a power of two, at most half full) */
    const Py_UCS1 **text;     /* per slot: the code's characters (the frozenset owns them) */
    Py_ssize_t *length;
} CodeTable;

typedef struct ElementSpec {
    int req;
    int check;
    int digit_length; /* the standards count only digits of numbers (values._length) */
    Py_ssize_t min, max;
    PyObject *codes; /* frozenset of str, or NULL for no code list */
    CodeTable table; /* its one-byte codes (when codes is not NULL) */
    Py_ssize_t n_components; /* 0: a simple element */
    struct ElementSpec *components;
} ElementSpec;

typedef struct {
    char kind;
    Py_ssize_t n_positions;
    Py_ssize_t *positions;
} RuleSpec;

typedef struct {
    Py_ssize_t n_elements;
    ElementSpec *elements;
    Py_ssize_t n_rules;
    RuleSpec *rules;
    Py_ssize_t checked;  /* elements worth a look when absent: up to the last mandatory one */
} SegmentSpec;

/* Tags of up to three characters, packed into an int, find their spec in an open-addressing
 * table without building a str per segment; longer tags go through the dict. */
#define TABLE_SIZE 1024

typedef struct {
    PyObject_HEAD
    Py_UCS4 element, component, repetition, release; /* NO_CHAR when the set has none */
    PyObject *segments; /* dict: tag -> capsule of a SegmentSpec (owns the specs) */
    unsigned char classes[256]; /* what each one-byte character is to the splitting loop */
    unsigned int keys[TABLE_SIZE]; /* 0: free */
    const void *specs[TABLE_SIZE];
} PlanObject;

static unsigned int
tag_key(const Py_UCS1 *tag, Py_ssize_t n)
{
    if (n < 1 || n > 3)
        return 0;
    unsigned int key = (unsigned int)n << 24;
    for (Py_ssize_t i = 0; i < n; i++)
        key |= (unsigned int)tag[i] << (8 * i);
    return key;
}

static unsigned int
slot_of(unsigned int key)
{
    return (key * 2654435761u) >> 22; /* (10 bits: TABLE_SIZE) */
}

#define NO_CHAR 0xFFFFFFFFu

/* Characters of a segment text as the splitting loop sees them. */
enum { CL_TEXT = 0, CL_ELEMENT = 1, CL_COMPONENT = 2, CL_RELEASE = 3, CL_REFUSE = 4 };
#define CAPSULE "translators.validation._accel.SegmentSpec"

/* ---------------------------------------------------------------------------------------- */
/* building a plan from the tuples of fast._accel_plan                                        */

static size_t
code_hash(const Py_UCS1 *v, Py_ssize_t n)
{
    size_t h = 1469598103934665603u;  /* FNV-1a */
    for (Py_ssize_t i = 0; i < n; i++)
        h = (h ^ v[i]) * 1099511628211u;
    return h;
}

static int
code_table_build(CodeTable *table, PyObject *codes)
{
    size_t size = 8;
    while (size < 2 * (size_t)PySet_GET_SIZE(codes))
        size *= 2;
    table->text = PyMem_Calloc(size, sizeof(const Py_UCS1 *));
    table->length = PyMem_Calloc(size, sizeof(Py_ssize_t));
    if (table->text == NULL || table->length == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    table->mask = size - 1;
    PyObject *iter = PyObject_GetIter(codes), *code;
    if (iter == NULL)
        return -1;
    while ((code = PyIter_Next(iter)) != NULL) {
        if (PyUnicode_CheckExact(code) && PyUnicode_KIND(code) == PyUnicode_1BYTE_KIND) {
            const Py_UCS1 *v = PyUnicode_1BYTE_DATA(code);
            Py_ssize_t n = PyUnicode_GET_LENGTH(code);
            size_t slot = code_hash(v, n) & table->mask;
            while (table->text[slot] != NULL)
                slot = (slot + 1) & table->mask;
            table->text[slot] = v;  /* (distinct: a set holds each code once) */
            table->length[slot] = n;
        }
        Py_DECREF(code);  /* (the frozenset keeps it) */
    }
    Py_DECREF(iter);
    return PyErr_Occurred() ? -1 : 0;
}

/* ``text in codes`` for one-byte characters. */
static int
code_known(const CodeTable *table, const Py_UCS1 *v, Py_ssize_t n)
{
    for (size_t slot = code_hash(v, n) & table->mask; table->text[slot] != NULL;
            slot = (slot + 1) & table->mask)
        if (table->length[slot] == n && memcmp(table->text[slot], v, (size_t)n) == 0)
            return 1;
    return 0;
}

static void
free_elements(ElementSpec *elements, Py_ssize_t count)
{
    if (elements == NULL)
        return;
    for (Py_ssize_t i = 0; i < count; i++) {
        PyMem_Free(elements[i].table.text);
        PyMem_Free(elements[i].table.length);
        Py_XDECREF(elements[i].codes);
        free_elements(elements[i].components, elements[i].n_components);
    }
    PyMem_Free(elements);
}

static void
free_segment(PyObject *capsule)
{
    SegmentSpec *spec = PyCapsule_GetPointer(capsule, CAPSULE);
    if (spec == NULL)
        return;
    free_elements(spec->elements, spec->n_elements);
    if (spec->rules != NULL) {
        for (Py_ssize_t i = 0; i < spec->n_rules; i++)
            PyMem_Free(spec->rules[i].positions);
        PyMem_Free(spec->rules);
    }
    PyMem_Free(spec);
}

static int
read_elements(PyObject *items, ElementSpec **out, Py_ssize_t *count, int nested)
{
    if (!PyTuple_Check(items)) {
        PyErr_SetString(PyExc_TypeError, "element specs must be a tuple");
        return -1;
    }
    Py_ssize_t n = PyTuple_GET_SIZE(items);
    *count = 0;
    *out = NULL;
    if (n == 0)
        return 0;
    ElementSpec *elements = PyMem_Calloc((size_t)n, sizeof(ElementSpec));
    if (elements == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        ElementSpec *e = &elements[i];
        PyObject *codes, *components;
        if (!PyArg_ParseTuple(PyTuple_GET_ITEM(items, i), "iipnnOO:element", &e->req,
                              &e->check, &e->digit_length, &e->min, &e->max, &codes,
                              &components)) {
            free_elements(elements, n);
            return -1;
        }
        if (codes != Py_None) {
            if (!PyFrozenSet_Check(codes)) {
                free_elements(elements, n);
                PyErr_SetString(PyExc_TypeError, "codes must be a frozenset or None");
                return -1;
            }
            Py_INCREF(codes);
            e->codes = codes;
            if (code_table_build(&e->table, codes) < 0) {
                free_elements(elements, n);
                return -1;
            }
        }
        if (nested && PyTuple_Check(components) && PyTuple_GET_SIZE(components) > 0) {
            free_elements(elements, n);
            PyErr_SetString(PyExc_ValueError, "components cannot have components");
            return -1;
        }
        if (read_elements(components, &e->components, &e->n_components, 1) < 0) {
            free_elements(elements, n);
            return -1;
        }
    }
    *out = elements;
    *count = n;
    return 0;
}

static PyObject *
read_segment(PyObject *value)
{
    PyObject *elements, *rules;
    if (!PyArg_ParseTuple(value, "O!O!:segment", &PyTuple_Type, &elements, &PyTuple_Type,
                          &rules))
        return NULL;
    SegmentSpec *spec = PyMem_Calloc(1, sizeof(SegmentSpec));
    if (spec == NULL)
        return PyErr_NoMemory();
    PyObject *capsule = PyCapsule_New(spec, CAPSULE, free_segment);
    if (capsule == NULL) {
        PyMem_Free(spec);
        return NULL;
    }
    if (read_elements(elements, &spec->elements, &spec->n_elements, 0) < 0) {
        Py_DECREF(capsule);
        return NULL;
    }
    for (Py_ssize_t i = 0; i < spec->n_elements; i++)
        if (spec->elements[i].req == REQ_MANDATORY)
            spec->checked = i + 1;
    Py_ssize_t n_rules = PyTuple_GET_SIZE(rules);
    if (n_rules > 0) {
        spec->rules = PyMem_Calloc((size_t)n_rules, sizeof(RuleSpec));
        if (spec->rules == NULL) {
            Py_DECREF(capsule);
            return PyErr_NoMemory();
        }
        spec->n_rules = n_rules;
    }
    for (Py_ssize_t i = 0; i < n_rules; i++) {
        RuleSpec *rule = &spec->rules[i];
        int kind;
        PyObject *positions;
        if (!PyArg_ParseTuple(PyTuple_GET_ITEM(rules, i), "CO!:rule", &kind, &PyTuple_Type,
                              &positions)) {
            Py_DECREF(capsule);
            return NULL;
        }
        rule->kind = (char)kind;
        Py_ssize_t n = PyTuple_GET_SIZE(positions);
        rule->positions = PyMem_Calloc((size_t)(n ? n : 1), sizeof(Py_ssize_t));
        if (rule->positions == NULL) {
            Py_DECREF(capsule);
            return PyErr_NoMemory();
        }
        rule->n_positions = n;
        for (Py_ssize_t j = 0; j < n; j++) {
            Py_ssize_t position = PyLong_AsSsize_t(PyTuple_GET_ITEM(positions, j));
            if (position == -1 && PyErr_Occurred()) {
                Py_DECREF(capsule);
                return NULL;
            }
            rule->positions[j] = position;
        }
    }
    return capsule;
}

static int
one_char(PyObject *text, Py_UCS4 *out)
{
    if (!PyUnicode_Check(text) || PyUnicode_GET_LENGTH(text) > 1) {
        PyErr_SetString(PyExc_ValueError, "a delimiter is one character or empty");
        return -1;
    }
    *out = PyUnicode_GET_LENGTH(text) ? PyUnicode_READ_CHAR(text, 0) : NO_CHAR;
    return 0;
}

static PyObject *
plan_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    PyObject *element, *component, *repetition, *release, *segments;
    if (!PyArg_ParseTuple(args, "UUUUO!:Plan", &element, &component, &repetition, &release,
                          &PyDict_Type, &segments))
        return NULL;
    PlanObject *self = (PlanObject *)type->tp_alloc(type, 0);
    if (self == NULL)
        return NULL;
    if (one_char(element, &self->element) < 0 || one_char(component, &self->component) < 0
            || one_char(repetition, &self->repetition) < 0
            || one_char(release, &self->release) < 0) {
        Py_DECREF(self);
        return NULL;
    }
    /* Later assignments win, in the order the splitting loop tests the characters. */
    memset(self->classes, CL_TEXT, sizeof(self->classes));
    self->classes['\n'] = self->classes['\r'] = CL_REFUSE;
    if (self->repetition < 256)
        self->classes[self->repetition] = CL_REFUSE;
    if (self->component < 256)
        self->classes[self->component] = CL_COMPONENT;
    if (self->element < 256)
        self->classes[self->element] = CL_ELEMENT;
    if (self->release < 256)
        self->classes[self->release] = CL_RELEASE;
    self->segments = PyDict_New();
    if (self->segments == NULL) {
        Py_DECREF(self);
        return NULL;
    }
    PyObject *tag, *value;
    Py_ssize_t pos = 0;
    while (PyDict_Next(segments, &pos, &tag, &value)) {
        PyObject *capsule = read_segment(value);
        if (capsule == NULL || PyDict_SetItem(self->segments, tag, capsule) < 0) {
            Py_XDECREF(capsule);
            Py_DECREF(self);
            return NULL;
        }
        Py_DECREF(capsule);
        /* (at most half full: a tag not in the table is then found missing quickly) */
        if (!PyUnicode_Check(tag) || PyUnicode_KIND(tag) != PyUnicode_1BYTE_KIND
                || PyDict_GET_SIZE(segments) > TABLE_SIZE / 2)
            continue;
        unsigned int key = tag_key(PyUnicode_1BYTE_DATA(tag), PyUnicode_GET_LENGTH(tag));
        if (key == 0)
            continue;
        unsigned int slot = slot_of(key);
        while (self->keys[slot] != 0)
            slot = (slot + 1) % TABLE_SIZE;
        self->keys[slot] = key;
        self->specs[slot] = PyCapsule_GetPointer(capsule, CAPSULE);
    }
    return (PyObject *)self;
}

static void
plan_dealloc(PlanObject *self)
{
    Py_XDECREF(self->segments);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyTypeObject PlanType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "translators.validation._accel.Plan",
    .tp_basicsize = sizeof(PlanObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = PyDoc_STR("Plan(element, component, repetition, release, segments)"),
    .tp_new = plan_new,
    .tp_dealloc = (destructor)plan_dealloc,
};

/* ---------------------------------------------------------------------------------------- */
/* the predicate (values.check_value and segment.check_segment finding nothing)               */

static int
is_digit(Py_UCS1 c)
{
    return c >= '0' && c <= '9';
}

static int
all_ascii_digits(const Py_UCS1 *v, Py_ssize_t n)
{
    for (Py_ssize_t i = 0; i < n; i++)
        if (!is_digit(v[i]))
            return 0;
    return 1;
}

static int
number(const Py_UCS1 *v, Py_ssize_t from, Py_ssize_t to)
{
    int out = 0;
    for (Py_ssize_t i = from; i < to; i++)
        out = out * 10 + (v[i] - '0');
    return out;
}

static int
x12_date(const Py_UCS1 *v, Py_ssize_t n)
{
    if ((n != 6 && n != 8) || !all_ascii_digits(v, n))
        return 0;
    int month = number(v, n - 4, n - 2), day = number(v, n - 2, n);
    if (month < 1 || month > 12 || day < 1)
        return 0;
    int year = n == 8 ? number(v, 0, 4) : 2000 + number(v, 0, 2);
    int leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return day <= (month == 2 && leap ? 29 : days[month - 1]);
}

static int
x12_time(const Py_UCS1 *v, Py_ssize_t n)
{
    if ((n != 4 && n != 6 && n != 7 && n != 8) || !all_ascii_digits(v, n))
        return 0;
    if (number(v, 0, 2) > 23 || number(v, 2, 4) > 59)
        return 0;
    return n < 6 || number(v, 4, 6) <= 59;
}

/* Digits from ``*i`` on; how many. */
static Py_ssize_t
digits(const Py_UCS1 *v, Py_ssize_t n, Py_ssize_t *i)
{
    Py_ssize_t start = *i;
    while (*i < n && is_digit(v[*i]))
        (*i)++;
    return *i - start;
}

/* ^-?\d+$ */
static int
x12_int(const Py_UCS1 *v, Py_ssize_t n)
{
    Py_ssize_t i = (n > 0 && v[0] == '-');
    return digits(v, n, &i) > 0 && i == n;
}

/* ^-?(\d+\.?\d*|\.\d+)([Ee]-?\d+)?$ */
static int
x12_real(const Py_UCS1 *v, Py_ssize_t n)
{
    Py_ssize_t i = (n > 0 && v[0] == '-');
    if (digits(v, n, &i) > 0) {
        if (i < n && v[i] == '.') {
            i++;
            digits(v, n, &i);
        }
    }
    else {
        if (i >= n || v[i] != '.')
            return 0;
        i++;
        if (digits(v, n, &i) == 0)
            return 0;
    }
    if (i < n && (v[i] == 'E' || v[i] == 'e')) {
        i++;
        if (i < n && v[i] == '-')
            i++;
        if (digits(v, n, &i) == 0)
            return 0;
    }
    return i == n;
}

/* ^-?\d*([.,]\d*)?$ with a digit somewhere and one in front of the decimal mark. */
static int
edifact_numeric(const Py_UCS1 *v, Py_ssize_t n)
{
    Py_ssize_t i = (n > 0 && v[0] == '-');
    Py_ssize_t before = digits(v, n, &i), after = 0;
    if (i < n && (v[i] == '.' || v[i] == ',')) {
        if (before == 0)
            return 0;
        i++;
        after = digits(v, n, &i);
    }
    return i == n && before + after > 0;
}

/* One decoded value (non-empty) passes check_value: 1, fails or is not modelled: 0, error: -1. */
static int
value_clean(const ElementSpec *e, const Py_UCS1 *v, Py_ssize_t n)
{
    int ascii = 1;
    for (Py_ssize_t i = 0; i < n; i++)
        if (v[i] >= 0x80) {
            ascii = 0;
            break;
        }
    /* str.isdigit() and \d know digits beyond ASCII: such values are Python's to judge. */
    if (!ascii && (e->check != CK_NONE || e->digit_length))
        return 0;
    switch (e->check) {
    case CK_X12_DATE:
        if (!x12_date(v, n))
            return 0;
        break;
    case CK_X12_TIME:
        if (!x12_time(v, n))
            return 0;
        break;
    case CK_X12_INT:
        if (!x12_int(v, n))
            return 0;
        break;
    case CK_X12_REAL:
        if (!x12_real(v, n))
            return 0;
        break;
    case CK_EDIFACT_NUMERIC:
        if (!edifact_numeric(v, n))
            return 0;
        break;
    case CK_EDIFACT_ALPHA:
        for (Py_ssize_t i = 0; i < n; i++)
            if (is_digit(v[i]))
                return 0;
        break;
    default:
        break;
    }
    Py_ssize_t size = n;
    if (e->digit_length) {
        size = 0;
        for (Py_ssize_t i = 0; i < n; i++)
            size += is_digit(v[i]);
    }
    if (size < e->min || size > e->max)
        return 0;
    if (e->codes != NULL)
        return code_known(&e->table, v, n);
    return 1;
}

typedef struct {
    Py_UCS1 buf[MAX_TEXT];                 /* decoded characters of the components */
    Py_ssize_t start[MAX_TEXT + 1];        /* per component: where it starts in buf */
    Py_ssize_t length[MAX_TEXT + 1];
    Py_ssize_t first[MAX_TEXT + 1];        /* per element: its first component */
    Py_ssize_t count[MAX_TEXT + 1];        /* per element: its number of components */
} Split;

static int
has_data(const Split *s, Py_ssize_t element)
{
    for (Py_ssize_t c = 0; c < s->count[element]; c++)
        if (s->length[s->first[element] + c] > 0)
            return 1;
    return 0;
}

/* One work area for all calls: the GIL is held throughout and nothing here runs Python code
 * that could call back in (set lookups of exact str keys). */
static Split split;

/* One segment text against its definition: 1 clean, 0 not (or not modelled), -1 error. */
static int
segment_clean(PlanObject *plan, PyObject *raw, Split *s)
{
    if (!PyUnicode_Check(raw) || PyUnicode_KIND(raw) != PyUnicode_1BYTE_KIND)
        return 0;
    Py_ssize_t n = PyUnicode_GET_LENGTH(raw);
    if (n > MAX_TEXT)
        return 0;
    const Py_UCS1 *text = PyUnicode_1BYTE_DATA(raw);
    Py_UCS4 el = plan->element;
    Py_UCS4 rel = plan->release;
    Py_ssize_t i = 0;
    while (i < n && text[i] != el) {
        Py_UCS1 c = text[i];
        if (c == rel || c == '\n' || c == '\r')
            return 0;
        i++;
    }
    const SegmentSpec *spec = NULL;
    unsigned int key = tag_key(text, i);
    if (key != 0 && PyDict_GET_SIZE(plan->segments) <= TABLE_SIZE / 2) {
        for (unsigned int slot = slot_of(key); plan->keys[slot] != 0;
                slot = (slot + 1) % TABLE_SIZE)
            if (plan->keys[slot] == key) {
                spec = plan->specs[slot];
                break;
            }
        if (spec == NULL)
            return 0;
    }
    else {
        PyObject *tag = PyUnicode_FromKindAndData(PyUnicode_1BYTE_KIND, text, i);
        if (tag == NULL)
            return -1;
        PyObject *capsule = PyDict_GetItemWithError(plan->segments, tag);
        Py_DECREF(tag);
        if (capsule == NULL)
            return PyErr_Occurred() ? -1 : 0;
        spec = PyCapsule_GetPointer(capsule, CAPSULE);
        if (spec == NULL)
            return -1;
    }

    /* Split as ElementCodec does (elements after the tag, components, release escapes). */
    Py_ssize_t elements = 0, components = 0, b = 0;
    if (i < n) {
        i++; /* the separator after the tag */
        s->first[0] = 0;
        s->start[0] = 0;
        elements = 1;
        components = 1;
        const unsigned char *classes = plan->classes;  /* (one look-up per character) */
        while (i < n) {
            Py_UCS1 c = text[i];
            switch (classes[c]) {
            case CL_TEXT:
                s->buf[b++] = c;
                break;
            case CL_RELEASE:
                if (i + 1 >= n || text[i + 1] == '\n' || text[i + 1] == '\r')
                    return 0;
                s->buf[b++] = text[i + 1];
                i++;
                break;
            case CL_REFUSE:
                return 0;
            default:  /* an element or component separator */
                s->length[components - 1] = b - s->start[components - 1];
                if (classes[c] == CL_ELEMENT) {
                    s->count[elements - 1] = components - s->first[elements - 1];
                    s->first[elements++] = components;
                }
                s->start[components++] = b;
            }
            i++;
        }
        s->length[components - 1] = b - s->start[components - 1];
        s->count[elements - 1] = components - s->first[elements - 1];
    }

    Py_ssize_t defined = spec->n_elements;
    for (Py_ssize_t index = defined; index < elements; index++)
        if (has_data(s, index))
            return 0;
    unsigned char present[256];
    if (defined > 255)
        return 0;
    memset(present, 0, (size_t)defined + 1);
    /* (past the elements the text has, only a mandatory one could still be missing) */
    Py_ssize_t last = elements > spec->checked ? elements : spec->checked;
    for (Py_ssize_t index = 0; index < defined && index < last; index++) {
        const ElementSpec *e = &spec->elements[index];
        if (index >= elements || !has_data(s, index)) {
            if (e->req == REQ_MANDATORY)
                return 0;
            continue;
        }
        present[index + 1] = 1;
        if (e->req == REQ_NOT_USED)
            return 0;
        Py_ssize_t first = s->first[index], count = s->count[index];
        if (e->n_components == 0) {
            for (Py_ssize_t c = 1; c < count; c++)
                if (s->length[first + c] > 0)
                    return 0;
            if (s->length[first] > 0) {
                int ok = value_clean(e, s->buf + s->start[first], s->length[first]);
                if (ok <= 0)
                    return ok;
            }
            continue;
        }
        for (Py_ssize_t c = e->n_components; c < count; c++)
            if (s->length[first + c] > 0)
                return 0;
        for (Py_ssize_t c = 0; c < e->n_components; c++) {
            const ElementSpec *part = &e->components[c];
            Py_ssize_t size = c < count ? s->length[first + c] : 0;
            if (size == 0) {
                if (part->req == REQ_MANDATORY)
                    return 0;
                continue;
            }
            if (part->req == REQ_NOT_USED)
                return 0;
            int ok = value_clean(part, s->buf + s->start[first + c], size);
            if (ok <= 0)
                return ok;
        }
    }
    for (Py_ssize_t r = 0; r < spec->n_rules; r++) {
        const RuleSpec *rule = &spec->rules[r];
        Py_ssize_t have = 0, n_pos = rule->n_positions;
        for (Py_ssize_t p = 0; p < n_pos; p++) {
            Py_ssize_t position = rule->positions[p];
            have += position >= 1 && position <= defined && present[position];
        }
        int first = n_pos > 0 && rule->positions[0] >= 1 && rule->positions[0] <= defined
            && present[rule->positions[0]];
        switch (rule->kind) {
        case 'P':
            if (have && have != n_pos)
                return 0;
            break;
        case 'R':
            if (!have)
                return 0;
            break;
        case 'E':
            if (have > 1)
                return 0;
            break;
        case 'C':
            if (first && have != n_pos)
                return 0;
            break;
        case 'L':
            if (first && have == 1)
                return 0;
            break;
        default:
            break;
        }
    }
    return 1;
}

static PyObject *
accel_clean(PyObject *module, PyObject *args)
{
    PyObject *plan, *texts;
    if (!PyArg_ParseTuple(args, "O!O!:clean", &PlanType, &plan, &PyList_Type, &texts))
        return NULL;
    int result = PyList_GET_SIZE(texts) > 0;
    for (Py_ssize_t i = 0; result == 1 && i < PyList_GET_SIZE(texts); i++)
        result = segment_clean((PlanObject *)plan, PyList_GET_ITEM(texts, i), &split);
    if (result < 0)
        return NULL;
    return PyBool_FromLong(result);
}

/* Segment's slots, so that ``clean_segments`` reads the texts without attribute lookups. */
static PyTypeObject *segment_type = NULL;
static Py_ssize_t off_raw = -1, off_elements = -1, off_tag = -1;
static PyObject *str_tag = NULL;

static PyObject *
accel_bind(PyObject *module, PyObject *args)
{
    PyObject *type;
    Py_ssize_t raw, elements, tag;
    if (!PyArg_ParseTuple(args, "O!:bind", &PyType_Type, &type))
        return NULL;
    if (slot_offset((PyTypeObject *)type, "raw", &raw) < 0
            || slot_offset((PyTypeObject *)type, "_elements", &elements) < 0
            || slot_offset((PyTypeObject *)type, "tag", &tag) < 0)
        return NULL;
    if (str_tag == NULL && (str_tag = PyUnicode_InternFromString("tag")) == NULL)
        return NULL;
    Py_INCREF(type);
    Py_XSETREF(segment_type, (PyTypeObject *)type);
    off_raw = raw;
    off_elements = elements;
    off_tag = tag;
    Py_RETURN_NONE;
}

/* tags(segments) -> ``tuple(s.tag for s in segments)``: the key of the structure cache, built
 * for every message. */
static PyObject *
accel_tags(PyObject *module, PyObject *segments)
{
    if (!PyList_CheckExact(segments)) {
        PyErr_SetString(PyExc_TypeError, "tags() takes a list");
        return NULL;
    }
    if (segment_type == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "bind(Segment) first");
        return NULL;
    }
    Py_ssize_t n = PyList_GET_SIZE(segments);
    PyObject *out = PyTuple_New(n);
    if (out == NULL)
        return NULL;
    for (Py_ssize_t i = 0; i < n && i < PyList_GET_SIZE(segments); i++) {
        PyObject *segment = PyList_GET_ITEM(segments, i);
        PyObject *tag = Py_IS_TYPE(segment, segment_type) ? SLOT(segment, off_tag) : NULL;
        tag = tag != NULL ? Py_NewRef(tag) : PyObject_GetAttr(segment, str_tag);
        if (tag == NULL) {
            Py_DECREF(out);
            return NULL;
        }
        PyTuple_SET_ITEM(out, i, tag);
    }
    if (n != PyList_GET_SIZE(segments)) {  /* (changed under us by a tag property: refuse) */
        Py_DECREF(out);
        PyErr_SetString(PyExc_RuntimeError, "the segment list changed");
        return NULL;
    }
    return out;
}

/* fast.segment_texts and clean in one: False as soon as a segment is not a parsed, undecoded
 * Segment (its elements may have been changed in place: Python judges those). */
static PyObject *
accel_clean_segments(PyObject *module, PyObject *args)
{
    PyObject *plan, *segments;
    if (!PyArg_ParseTuple(args, "O!O!:clean_segments", &PlanType, &plan, &PyList_Type,
                          &segments))
        return NULL;
    if (segment_type == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "bind(Segment) first");
        return NULL;
    }
    int result = PyList_GET_SIZE(segments) > 0;
    for (Py_ssize_t i = 0; result == 1 && i < PyList_GET_SIZE(segments); i++) {
        PyObject *segment = PyList_GET_ITEM(segments, i);
        if (!Py_IS_TYPE(segment, segment_type)) {
            result = 0;
            break;
        }
        PyObject *elements = SLOT(segment, off_elements), *raw = SLOT(segment, off_raw);
        if (elements == NULL || elements != Py_None || raw == NULL || !PyUnicode_Check(raw)) {
            result = 0;
            break;
        }
        result = segment_clean((PlanObject *)plan, raw, &split);
    }
    if (result < 0)
        return NULL;
    return PyBool_FromLong(result);
}

static PyMethodDef accel_methods[] = {
    {"bind", accel_bind, METH_VARARGS, PyDoc_STR("bind(Segment): where its slots are")},
    {"tags", accel_tags, METH_O, PyDoc_STR("tags(segments) -> the tuple of their tags")},
    {"clean_segments", accel_clean_segments, METH_VARARGS,
     PyDoc_STR("clean_segments(plan, segments) -> True when all are parsed, undecoded and "
               "clean")},
    {"clean", accel_clean, METH_VARARGS,
     PyDoc_STR("clean(plan, texts) -> True when no text has an element-level issue")},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef accel_module = {
    PyModuleDef_HEAD_INIT, "translators.validation._accel",
    PyDoc_STR("C predicate of validation's success path (optional)."), -1, accel_methods,
};

PyMODINIT_FUNC
PyInit__accel(void)
{
    if (PyType_Ready(&PlanType) < 0)
        return NULL;
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
