/* Shared by the optional C accelerators (translators/mapping/_accel.c,
 * translators/validation/_accel.c): where a Python class with __slots__ keeps one attribute,
 * so hot loops read Segment fields without an attribute lookup. Offsets are looked up once,
 * when the module is bound to the class, and refused for anything but a plain object slot (the
 * caller then falls back to Python). */
#ifndef EDIGATE_CPYTHON_SLOTS_H
#define EDIGATE_CPYTHON_SLOTS_H

#include <Python.h>
#include <structmember.h>

static int
slot_offset(PyTypeObject *type, const char *name, Py_ssize_t *out)
{
    PyObject *descr = PyObject_GetAttrString((PyObject *)type, name);
    if (descr == NULL)
        return -1;
    if (!Py_IS_TYPE(descr, &PyMemberDescr_Type)
            || ((PyMemberDescrObject *)descr)->d_member->type != T_OBJECT_EX) {
        Py_DECREF(descr);
        PyErr_Format(PyExc_TypeError, "%s.%s is not an object slot", type->tp_name, name);
        return -1;
    }
    *out = ((PyMemberDescrObject *)descr)->d_member->offset;
    Py_DECREF(descr);
    return 0;
}

#define SLOT(obj, offset) (*(PyObject **)((char *)(obj) + (offset)))

#endif
