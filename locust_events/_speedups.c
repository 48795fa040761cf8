/* The calling loop of a hook, compiled: HookCore as in _native.py, without a dict per fire.
 *
 * fire() receives its keyword arguments with the vectorcall protocol (the values in a C array,
 * their names in a tuple) and passes that same array and tuple on to every listener, so a
 * fire costs about one direct call of each listener. Behaviour is _native.HookCore's exactly;
 * errors are handed to the same Python method, self._listener_failed(listener, error).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stddef.h> /* offsetof */

#if PY_VERSION_HEX < 0x030C0000
#include <structmember.h>
#define Py_T_OBJECT_EX T_OBJECT_EX
#endif

static PyObject *str_reverse;         /* "reverse", interned */
static PyObject *str_listener_failed; /* "_listener_failed", interned */

/* The keyword names of the last fire without ``reverse``. A call site passes the same
 * constant tuple on each of its fires, so the next fire from there skips the search. */
static PyObject *names_without_reverse;

typedef struct {
    PyObject_HEAD
    PyObject *listeners;          /* tuple, registration order; NULL until __init__ */
    PyObject *reversed_listeners; /* the same tuple, last registered first */
} HookCore;

static int
hookcore_init(HookCore *self, PyObject *args, PyObject *kwargs)
{
    if (PyTuple_GET_SIZE(args) != 0 || (kwargs != NULL && PyDict_GET_SIZE(kwargs) != 0)) {
        PyErr_SetString(PyExc_TypeError, "HookCore.__init__() takes no arguments");
        return -1;
    }
    PyObject *empty = PyTuple_New(0);
    if (empty == NULL) {
        return -1;
    }
    Py_XSETREF(self->listeners, Py_NewRef(empty));
    Py_XSETREF(self->reversed_listeners, empty);
    return 0;
}

static int
hookcore_traverse(HookCore *self, visitproc visit, void *arg)
{
    Py_VISIT(self->listeners);
    Py_VISIT(self->reversed_listeners);
    return 0;
}

static int
hookcore_clear(HookCore *self)
{
    Py_CLEAR(self->listeners);
    Py_CLEAR(self->reversed_listeners);
    return 0;
}

static void
hookcore_dealloc(HookCore *self)
{
    PyObject_GC_UnTrack(self);
    hookcore_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* A listener raised: give an Exception to self._listener_failed(listener, error), as the
 * pure-Python loop does inside its ``except Exception as error:``; let any other
 * BaseException (GreenletExit, KeyboardInterrupt, SystemExit) propagate as it is.
 * Returns 0 when the fire may go on, -1 with an exception set when it must stop. */
static int
listener_failed(HookCore *self, PyObject *listener)
{
    if (!PyErr_ExceptionMatches(PyExc_Exception)) {
        return -1;
    }
#if PY_VERSION_HEX >= 0x030C0000
    PyObject *error = PyErr_GetRaisedException(); /* normalized, traceback attached */
#else
    PyObject *type, *error, *traceback;
    PyErr_Fetch(&type, &error, &traceback);
    PyErr_NormalizeException(&type, &error, &traceback);
    if (traceback != NULL) {
        PyException_SetTraceback(error, traceback);
    }
    Py_XDECREF(type);
    Py_XDECREF(traceback);
#endif
    /* While _listener_failed runs, ``error`` is the exception being handled, as in an
     * ``except`` block: an exception it raises gets ``error`` as its __context__. */
    PyObject *handled_type, *handled, *handled_traceback;
    PyErr_GetExcInfo(&handled_type, &handled, &handled_traceback);
    PyErr_SetExcInfo((PyObject *)Py_NewRef(Py_TYPE(error)), Py_NewRef(error),
                     PyException_GetTraceback(error));
    PyObject *result =
        PyObject_CallMethodObjArgs((PyObject *)self, str_listener_failed, listener, error, NULL);
    PyErr_SetExcInfo(handled_type, handled, handled_traceback);
    Py_DECREF(error);
    if (result == NULL) {
        return -1;
    }
    Py_DECREF(result);
    return 0;
}

/* Call each listener of the tuple with the keyword arguments ``values`` named ``names``. */
static PyObject *
call_listeners(HookCore *self, PyObject *listeners, PyObject *const *values, PyObject *names)
{
    if (listeners == NULL || !PyTuple_Check(listeners)) {
        PyErr_Format(PyExc_AttributeError,
                     "'%.200s' object has no tuple of listeners: call HookCore.__init__ and "
                     "assign tuples to _listeners and _reversed_listeners",
                     Py_TYPE(self)->tp_name);
        return NULL;
    }
    /* Our own reference: a listener may switch greenlets or change the registry, and the
     * hook may then drop this tuple while we still walk it. */
    Py_INCREF(listeners);
    Py_ssize_t size = PyTuple_GET_SIZE(listeners);
    for (Py_ssize_t i = 0; i < size; i++) {
        PyObject *listener = PyTuple_GET_ITEM(listeners, i);
        PyObject *result = PyObject_Vectorcall(listener, values, 0, names);
        if (result != NULL) {
            Py_DECREF(result);
        }
        else if (listener_failed(self, listener) < 0) {
            Py_DECREF(listeners);
            return NULL;
        }
    }
    Py_DECREF(listeners);
    Py_RETURN_NONE;
}

/* fire(..., reverse=<value>, ...): the listeners get the other keyword arguments, so this
 * (rarer) fire copies the names and values without the one at ``reverse_at``. */
static PyObject *
fire_with_reverse(HookCore *self, PyObject *const *args, PyObject *kwnames, Py_ssize_t reverse_at)
{
    int reverse = PyObject_IsTrue(args[reverse_at]);
    if (reverse < 0) {
        return NULL;
    }
    PyObject *listeners = reverse ? self->reversed_listeners : self->listeners;
    Py_ssize_t count = PyTuple_GET_SIZE(kwnames) - 1;
    if (count == 0) {
        return call_listeners(self, listeners, NULL, NULL);
    }
    PyObject *names = PyTuple_New(count);
    PyObject **values = PyMem_New(PyObject *, count);
    if (names == NULL || values == NULL) {
        Py_XDECREF(names);
        PyMem_Free(values);
        return PyErr_NoMemory();
    }
    for (Py_ssize_t i = 0, j = 0; j < count; i++) {
        if (i != reverse_at) {
            PyTuple_SET_ITEM(names, j, Py_NewRef(PyTuple_GET_ITEM(kwnames, i)));
            values[j++] = args[i]; /* borrowed, as args are */
        }
    }
    PyObject *outcome = call_listeners(self, listeners, values, names);
    Py_DECREF(names);
    PyMem_Free(values);
    return outcome;
}

/* fire(*, reverse=False, **kwargs): call every listener with the caller's keyword arguments,
 * passed on as they came (values array and names tuple, borrowed): no dict is built. */
static PyObject *
hookcore_fire(HookCore *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    if (nargs != 0) {
        PyErr_Format(PyExc_TypeError,
                     "fire() takes keyword arguments only (%zd positional given); "
                     "pass them by name",
                     nargs);
        return NULL;
    }
    if (kwnames != NULL && kwnames != names_without_reverse) {
        Py_ssize_t count = PyTuple_GET_SIZE(kwnames);
        for (Py_ssize_t i = 0; i < count; i++) {
            PyObject *name = PyTuple_GET_ITEM(kwnames, i);
            /* The compiler's names are interned, so one of them is "reverse" only if it is
             * ours; a name built at run time (passed with **mapping) is compared by value. */
            if (name == str_reverse ||
                (!PyUnicode_CHECK_INTERNED(name) && PyUnicode_Compare(name, str_reverse) == 0)) {
                return fire_with_reverse(self, args, kwnames, i);
            }
        }
        Py_XSETREF(names_without_reverse, Py_NewRef(kwnames));
    }
    return call_listeners(self, self->listeners, args, kwnames);
}

/* _listener_failed(listener, error): the base class re-raises, as _native.HookCore does. */
static PyObject *
hookcore_listener_failed(HookCore *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2 || !PyExceptionInstance_Check(args[1])) {
        PyErr_SetString(PyExc_TypeError, "_listener_failed() takes a listener and an exception");
        return NULL;
    }
    PyObject *error = args[1];
    PyErr_SetObject((PyObject *)Py_TYPE(error), error);
    return NULL;
}

static PyMethodDef hookcore_methods[] = {
    {"fire", (PyCFunction)(void (*)(void))hookcore_fire, METH_FASTCALL | METH_KEYWORDS,
     PyDoc_STR("fire($self, /, *, reverse=False, **kwargs)\n--\n\n"
               "Call every listener with ``kwargs``, in the calling greenlet, in order.\n\n"
               "``reverse=True`` calls the listeners last registered first; it is never "
               "passed on to the listeners.")},
    {"_listener_failed", (PyCFunction)(void (*)(void))hookcore_listener_failed, METH_FASTCALL,
     PyDoc_STR("Log, count or re-raise ``error``; see EventHook.")},
    {NULL, NULL, 0, NULL},
};

static PyMemberDef hookcore_members[] = {
    {"_listeners", Py_T_OBJECT_EX, offsetof(HookCore, listeners), 0,
     PyDoc_STR("The callables fire calls, in registration order.")},
    {"_reversed_listeners", Py_T_OBJECT_EX, offsetof(HookCore, reversed_listeners), 0,
     PyDoc_STR("The same callables, last registered first.")},
    {NULL, 0, 0, 0, NULL},
};

static PyTypeObject HookCoreType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "locust_events._speedups.HookCore",
    .tp_doc = PyDoc_STR("Holds a hook's listeners as immutable tuples and calls them on fire()."),
    .tp_basicsize = sizeof(HookCore),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)hookcore_init,
    .tp_traverse = (traverseproc)hookcore_traverse,
    .tp_clear = (inquiry)hookcore_clear,
    .tp_dealloc = (destructor)hookcore_dealloc,
    .tp_methods = hookcore_methods,
    .tp_members = hookcore_members,
};

static struct PyModuleDef speedups_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "locust_events._speedups",
    .m_doc = PyDoc_STR("The calling loop of a hook, compiled; see _native.py for its twin."),
    .m_size = -1,
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
    str_reverse = PyUnicode_InternFromString("reverse");
    str_listener_failed = PyUnicode_InternFromString("_listener_failed");
    if (str_reverse == NULL || str_listener_failed == NULL || PyType_Ready(&HookCoreType) < 0) {
        return NULL;
    }
    PyObject *module = PyModule_Create(&speedups_module);
    if (module == NULL) {
        return NULL;
    }
    if (PyModule_AddObjectRef(module, "HookCore", (PyObject *)&HookCoreType) < 0) {
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
