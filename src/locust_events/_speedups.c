/* The calling loop of a hook, compiled: HookCore as in _native.py, without a dict per fire;
 * FilteredListener (_native.py) and Measurement (_measure.py) beside it. Nothing else: the
 * spawned and batch listeners' paths are Python only.
 *
 * fire() receives its keyword arguments with the vectorcall protocol (the values in a C array,
 * their names in a tuple) and passes that same array and tuple on to every listener, so a
 * fire costs about one direct call of each listener. Behaviour is _native.HookCore's exactly;
 * errors are handed to the same Python method, self._listener_failed(listener, error).
 *
 * Public C API only, the same from 3.10 to 3.14 (where it differs, both sides are public),
 * and no field of a class defined in Python is read or written here: Python reaches this
 * module's objects through their methods and members, never the other way round.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stddef.h> /* offsetof */

#if PY_VERSION_HEX < 0x030C0000
#include <structmember.h>
#define Py_T_OBJECT_EX T_OBJECT_EX
#define Py_T_PYSSIZET T_PYSSIZET
#define Py_READONLY READONLY
#endif

/* The keys of Measurement's request_meta, interned, in the order _measure.py inserts them. */
enum { REQUEST_TYPE, NAME, RESPONSE_LENGTH, CONTEXT, EXCEPTION, START_TIME, RESPONSE_TIME,
       FIRE, KEY_COUNT };
static const char *const key_texts[KEY_COUNT] = {
    "request_type", "name", "response_length", "context", "exception", "start_time",
    "response_time", "fire"};

/* Everything the module keeps lives here, one per module object (multi-phase init): the
 * module holds no static PyObject*, so each (sub-)interpreter gets its own. Instances reach
 * it through a pointer stored at creation (their type keeps the module alive), so a fire
 * pays one load for it, not a lookup. */
typedef struct {
    PyTypeObject *hookcore_type;
    PyTypeObject *filtered_listener_type;
    PyTypeObject *measurement_type;
    PyObject *str_reverse;         /* "reverse", interned */
    PyObject *str_listener_failed; /* "_listener_failed", interned */
    PyObject *keys[KEY_COUNT];     /* key_texts, interned */
    /* The names a fire from measure() passes, in its order. */
    PyObject *request_names;
    /* The template's first values, by key index (its first START_TIME keys): None, and
     * response_length 0. */
    PyObject *request_meta_values;
    /* request_meta as a new Measurement starts it: the first five keys, with room for seven,
     * so that each Measurement copies it (a memcpy) instead of building and growing a dict.
     * It keeps the request_type and name of the last measure(): a call site passes the same
     * ones each time, and its next copy then needs no write for them. */
    PyObject *request_meta_template;
    PyObject *wall_clock, *perf_counter; /* time.time and time.perf_counter */
    PyObject *template_request_type; /* what the template holds: None, then the last ones */
    PyObject *template_name;
} ModuleState;

static struct PyModuleDef speedups_module;

static void hookcore_dealloc(PyObject *self);

/* The state of the module that defined ``type`` or one of its bases (a Python subclass of
 * HookCore is not ours, its base is). Borrowed; NULL with an exception set if none. */
static ModuleState *
state_of_type(PyTypeObject *type)
{
#if PY_VERSION_HEX >= 0x030B0000
    PyObject *module = PyType_GetModuleByDef(type, &speedups_module);
    return module == NULL ? NULL : (ModuleState *)PyModule_GetState(module);
#else /* 3.10 has no PyType_GetModuleByDef: find our HookCore in the MRO by its dealloc */
    PyObject *mro = type->tp_mro;
    for (Py_ssize_t i = 0; mro != NULL && i < PyTuple_GET_SIZE(mro); i++) {
        PyTypeObject *base = (PyTypeObject *)PyTuple_GET_ITEM(mro, i);
        if (PyType_GetSlot(base, Py_tp_dealloc) == (void *)hookcore_dealloc) {
            return (ModuleState *)PyType_GetModuleState(base);
        }
    }
    PyErr_Format(PyExc_TypeError, "'%s' is no HookCore of locust_events._speedups",
                 type->tp_name);
    return NULL;
#endif
}

/* _native.HookCore's twin. */
typedef struct {
    PyObject_HEAD
    PyObject *listeners;          /* tuple, registration order; NULL until __init__ */
    PyObject *reversed_listeners; /* the same tuple, last registered first */
    /* The keyword names of this hook's last fire without ``reverse``. A call site passes the
     * same constant tuple on each of its fires, so the next fire from there skips the
     * search. Per hook, so that hooks fired from different places do not evict each other. */
    PyObject *names_without_reverse;
    ModuleState *state; /* of the module that made the type; set by __new__ */
} HookCore;

static PyObject *
hookcore_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    ModuleState *state = state_of_type(type);
    if (state == NULL) {
        return NULL;
    }
    HookCore *self = (HookCore *)type->tp_alloc(type, 0);
    if (self != NULL) {
        self->state = state;
    }
    return (PyObject *)self;
}

/* _native.HookCore.__init__'s twin: HookCore(listeners=()) */
static int
hookcore_init(HookCore *self, PyObject *args, PyObject *kwargs)
{
    static char *keywords[] = {"listeners", NULL};
    PyObject *given = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|O!:HookCore", keywords, &PyTuple_Type,
                                     &given)) {
        return -1;
    }
    PyObject *listeners = given == NULL ? PyTuple_New(0) : Py_NewRef(given);
    if (listeners == NULL) {
        return -1;
    }
    Py_ssize_t count = PyTuple_GET_SIZE(listeners);
    PyObject *reversed = PyTuple_New(count);
    if (reversed == NULL) {
        Py_DECREF(listeners);
        return -1;
    }
    for (Py_ssize_t i = 0; i < count; i++) {
        PyTuple_SET_ITEM(reversed, i, Py_NewRef(PyTuple_GET_ITEM(listeners, count - 1 - i)));
    }
    Py_XSETREF(self->listeners, listeners);
    Py_XSETREF(self->reversed_listeners, reversed);
    return 0;
}

static int
hookcore_traverse(HookCore *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self)); /* a heap type: its instances keep it alive */
    Py_VISIT(self->listeners);
    Py_VISIT(self->reversed_listeners);
    Py_VISIT(self->names_without_reverse);
    return 0;
}

static int
hookcore_clear(HookCore *self)
{
    Py_CLEAR(self->listeners);
    Py_CLEAR(self->reversed_listeners);
    Py_CLEAR(self->names_without_reverse);
    return 0;
}

static void
hookcore_dealloc(PyObject *self)
{
    /* Also the dealloc of Python subclasses (EventHook): their subtype_dealloc leaves the
     * type's reference to the first heap-type base's dealloc, this one. */
    PyTypeObject *type = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    hookcore_clear((HookCore *)self);
    type->tp_free((PyObject *)self);
    Py_DECREF(type);
}

/* The exception being raised, taken out of the error indicator: normalized, its traceback
 * attached, as an ``except ... as error:`` binds it. A new reference. */
static PyObject *
take_raised_exception(void)
{
#if PY_VERSION_HEX >= 0x030C0000
    return PyErr_GetRaisedException();
#else
    PyObject *type, *error, *traceback;
    PyErr_Fetch(&type, &error, &traceback);
    PyErr_NormalizeException(&type, &error, &traceback);
    if (traceback != NULL) {
        PyException_SetTraceback(error, traceback);
    }
    Py_XDECREF(type);
    Py_XDECREF(traceback);
    return error;
#endif
}

/* obj.name(first, error) while ``error`` is the exception being handled, as in an ``except``
 * block: an exception the method raises gets ``error`` as its __context__. Returns what the
 * method returned (a new reference), or NULL with an exception set. */
static PyObject *
call_handling(PyObject *error, PyObject *obj, PyObject *name, PyObject *first)
{
    PyObject *handled_type, *handled, *handled_traceback;
    PyErr_GetExcInfo(&handled_type, &handled, &handled_traceback);
    PyErr_SetExcInfo((PyObject *)Py_NewRef(Py_TYPE(error)), Py_NewRef(error),
                     PyException_GetTraceback(error));
    PyObject *result = PyObject_CallMethodObjArgs(obj, name, first, error, NULL);
    PyErr_SetExcInfo(handled_type, handled, handled_traceback);
    return result;
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
    PyObject *error = take_raised_exception();
    PyObject *result = call_handling(error, (PyObject *)self, self->state->str_listener_failed,
                                     listener);
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
    if (listeners == NULL) { /* as reading an unset slot does */
        return PyErr_Format(PyExc_AttributeError,
                            "'%.200s' object has no listeners: HookCore.__init__ was not called",
                            Py_TYPE(self)->tp_name);
    }
    if (!PyTuple_Check(listeners)) {
        return PyErr_Format(PyExc_TypeError, "a hook's listeners must be a tuple, not '%.200s'",
                            Py_TYPE(listeners)->tp_name);
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
    /* The listeners are read only when they are called: allocating may run a finalizer
     * that changes them. */
    Py_ssize_t count = PyTuple_GET_SIZE(kwnames) - 1;
    if (count == 0) {
        return call_listeners(self, reverse ? self->reversed_listeners : self->listeners, NULL,
                              NULL);
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
    PyObject *outcome = call_listeners(
        self, reverse ? self->reversed_listeners : self->listeners, values, names);
    Py_DECREF(names);
    PyMem_Free(values);
    return outcome;
}

/* fire() given positional arguments: _native.positional_arguments_refused's twin, the same
 * TypeError naming the hook: its ``name``, or its type's name where reading ``name`` raises an
 * Exception (the caller's mistake is the positional arguments; that is the error to report).
 * Any other BaseException (KeyboardInterrupt, GreenletExit) propagates. */
static PyObject *
refuse_positional_arguments(HookCore *self, Py_ssize_t nargs)
{
    PyObject *name = PyObject_GetAttrString((PyObject *)self, "name");
    if (name == NULL) {
        if (!PyErr_ExceptionMatches(PyExc_Exception)) {
            return NULL;
        }
        PyErr_Clear();
        name = PyObject_GetAttrString((PyObject *)Py_TYPE(self), "__name__");
        if (name == NULL) {
            return NULL;
        }
    }
    PyErr_Format(PyExc_TypeError,
                 "Cannot fire hook %R with %zd positional argument(s): fire() takes keyword "
                 "arguments only; pass each one by name, as fire(name=value)",
                 name, nargs);
    Py_DECREF(name);
    return NULL;
}

/* fire(*, reverse=False, **kwargs): _native.HookCore.fire's twin. Call every listener with the
 * caller's keyword arguments, passed on as they came (values array and names tuple, borrowed):
 * no dict is built. */
static PyObject *
hookcore_fire(HookCore *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    if (nargs != 0) {
        return refuse_positional_arguments(self, nargs);
    }
    if (kwnames != NULL && kwnames != self->names_without_reverse &&
        kwnames != self->state->request_names) {
        PyObject *str_reverse = self->state->str_reverse;
        Py_ssize_t count = PyTuple_GET_SIZE(kwnames);
        for (Py_ssize_t i = 0; i < count; i++) {
            PyObject *name = PyTuple_GET_ITEM(kwnames, i);
            /* The compiler's names are interned, as ours is: most compare by pointer. A name
             * built at run time (passed with **mapping) is compared by value. */
            if (name == str_reverse || (PyUnicode_GET_LENGTH(name) == 7 &&
                                        PyUnicode_Compare(name, str_reverse) == 0)) {
                return fire_with_reverse(self, args, kwnames, i);
            }
        }
        Py_XSETREF(self->names_without_reverse, Py_NewRef(kwnames));
    }
    return call_listeners(self, self->listeners, args, kwnames);
}

/* _listener_failed(listener, error): _native.HookCore._listener_failed's twin; the base class
 * re-raises. */
static PyObject *
hookcore_listener_failed(HookCore *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2 || !PyExceptionInstance_Check(args[1])) {
        return PyErr_Format(PyExc_TypeError,
                            "_listener_failed() takes a listener and an exception");
    }
    PyObject *error = args[1];
    PyErr_SetObject((PyObject *)Py_TYPE(error), error);
    return NULL;
}

/* Defined with Measurement, below. */
static PyObject *measurement_create(ModuleState *state, PyObject *hook, PyObject *request_type,
                                    PyObject *name, PyObject *response_length,
                                    PyObject *context);

enum { MEASURE_REQUEST_TYPE, MEASURE_NAME, MEASURE_RESPONSE_LENGTH, MEASURE_CONTEXT,
       MEASURE_PARAMETERS };
static const char *const measure_parameters[MEASURE_PARAMETERS] = {
    "request_type", "name", "response_length", "context"};

/* measure(request_type, name, response_length=0, context=None): EventHook.measure's twin
 * (_hooks.py defines it for the pure loop only). In C so that ``with hook.measure(...)``
 * runs no Python frame before the block. */
static PyObject *
hookcore_measure(HookCore *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    ModuleState *state = self->state;
    PyObject *values[MEASURE_PARAMETERS] = {
        NULL, NULL, PyTuple_GET_ITEM(state->request_meta_values, RESPONSE_LENGTH), Py_None};
    int given[MEASURE_PARAMETERS] = {0};
    if (nargs > MEASURE_PARAMETERS) {
        return PyErr_Format(PyExc_TypeError,
                            "measure() takes from 2 to 4 positional arguments but %zd were given",
                            nargs);
    }
    for (Py_ssize_t i = 0; i < nargs; i++) {
        values[i] = args[i];
        given[i] = 1;
    }
    Py_ssize_t keywords = kwnames == NULL ? 0 : PyTuple_GET_SIZE(kwnames);
    for (Py_ssize_t k = 0; k < keywords; k++) {
        PyObject *keyword = PyTuple_GET_ITEM(kwnames, k);
        int at = 0;
        /* The request_meta keys are interned and the compiler's names too: most compare by
         * pointer. */
        while (at < MEASURE_PARAMETERS && keyword != state->keys[at] &&
               PyUnicode_CompareWithASCIIString(keyword, measure_parameters[at]) != 0) {
            at++;
        }
        if (at == MEASURE_PARAMETERS) {
            return PyErr_Format(PyExc_TypeError,
                                "measure() got an unexpected keyword argument '%U'", keyword);
        }
        if (given[at]) {
            return PyErr_Format(PyExc_TypeError, "measure() got multiple values for argument '%s'",
                                measure_parameters[at]);
        }
        values[at] = args[nargs + k];
        given[at] = 1;
    }
    for (int at = MEASURE_REQUEST_TYPE; at <= MEASURE_NAME; at++) {
        if (values[at] == NULL) {
            return PyErr_Format(PyExc_TypeError, "measure() missing required argument '%s'",
                                measure_parameters[at]);
        }
    }
    return measurement_create(state, (PyObject *)self, values[MEASURE_REQUEST_TYPE],
                              values[MEASURE_NAME], values[MEASURE_RESPONSE_LENGTH],
                              values[MEASURE_CONTEXT]);
}

static PyMethodDef hookcore_methods[] = {
    {"fire", (PyCFunction)(void (*)(void))hookcore_fire, METH_FASTCALL | METH_KEYWORDS,
     PyDoc_STR("fire($self, /, *, reverse=False, **kwargs)\n--\n\n"
               "Call every listener with ``kwargs``, in the calling greenlet, in order.\n\n"
               "``reverse=True`` calls the listeners last registered first; it is never "
               "passed on to the listeners.")},
    {"_listener_failed", (PyCFunction)(void (*)(void))hookcore_listener_failed, METH_FASTCALL,
     PyDoc_STR("Log, count or re-raise ``error``; see EventHook.")},
    /* The docstring is EventHook.measure's, which _hooks.py keeps for the pure loop. */
    {"measure", (PyCFunction)(void (*)(void))hookcore_measure, METH_FASTCALL | METH_KEYWORDS,
     PyDoc_STR(
         "measure($self, /, request_type, name, response_length=0, context=None)\n--\n\n"
         "Time the ``with`` block and fire this hook once for it, like Locust's ``measure``.\n\n"
         "::\n\n"
         "    with events.request.measure(\"grpc\", \"GetUser\") as request_meta:\n"
         "        request_meta[\"response_length\"] = len(call_the_service())\n\n"
         "The block gets the ``request_meta`` dict (``request_type``, ``name``,\n"
         "``response_length``, ``context``, ``exception``, ``start_time``), the keys Locust's\n"
         "own ``measure`` passes; whatever it adds or changes is passed on. An ``Exception`` raised in "
         "the\nblock becomes ``exception`` and is not re-raised. ``response_time`` is in "
         "milliseconds.")},
    {NULL, NULL, 0, NULL},
};

static PyMemberDef hookcore_members[] = {
    {"_listeners", Py_T_OBJECT_EX, offsetof(HookCore, listeners), 0,
     PyDoc_STR("The callables fire calls, in registration order.")},
    {"_reversed_listeners", Py_T_OBJECT_EX, offsetof(HookCore, reversed_listeners), 0,
     PyDoc_STR("The same callables, last registered first.")},
    {NULL, 0, 0, 0, NULL},
};

static PyType_Slot hookcore_slots[] = {
    {Py_tp_doc,
     (void *)PyDoc_STR("Holds a hook's listeners as immutable tuples and calls them on fire().")},
    {Py_tp_new, hookcore_new},
    {Py_tp_init, hookcore_init},
    {Py_tp_traverse, hookcore_traverse},
    {Py_tp_clear, hookcore_clear},
    {Py_tp_dealloc, hookcore_dealloc},
    {Py_tp_methods, hookcore_methods},
    {Py_tp_members, hookcore_members},
    {0, NULL},
};

static PyType_Spec hookcore_spec = {
    .name = "locust_events._speedups.HookCore",
    .basicsize = sizeof(HookCore),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .slots = hookcore_slots,
};


/* FilteredListener(listener, takes): _native.FilteredListener's twin. Calling it passes on
 * the values of the keyword arguments whose names are in ``takes`` (a frozenset), as a
 * vectorcall without a dict. Which of a fire's names to keep is worked out once per names
 * tuple and cached: a call site passes the same tuple (or one with the same interned names)
 * on each of its fires, so a call usually only compares pointers and copies the kept values. */

typedef struct {
    PyObject_HEAD
    vectorcallfunc vectorcall;
    PyObject *listener;       /* __wrapped__ */
    PyObject *takes;          /* frozenset of str */
    PyObject *seen_names;     /* the names tuple the cache below was worked out for, or NULL */
    PyObject *kept_names;     /* the names of seen_names that are kept, a tuple */
    Py_ssize_t *kept_indexes; /* where in a call's values each kept name's value is */
    Py_ssize_t kept_run;      /* the first kept index when the kept values lie side by side
                               * (as a call passing just the listener's names), else -1 */
} FilteredListener;

/* Most hooks pass under ten names; a call keeps its values on the C stack up to this many. */
#define SMALL_CALL 16

static int
same_names(PyObject *seen, PyObject *names)
{
    if (seen == names) {
        return 1;
    }
    Py_ssize_t count = PyTuple_GET_SIZE(names);
    if (seen == NULL || PyTuple_GET_SIZE(seen) != count) {
        return 0;
    }
    for (Py_ssize_t i = 0; i < count; i++) {
        if (PyTuple_GET_ITEM(seen, i) != PyTuple_GET_ITEM(names, i)) {
            return 0;
        }
    }
    return 1;
}

/* Work out which of ``names`` the listener takes, and cache it. 0 on success. */
static int
filtered_learn(FilteredListener *self, PyObject *names)
{
    Py_ssize_t count = PyTuple_GET_SIZE(names);
    Py_ssize_t *indexes = PyMem_New(Py_ssize_t, count > 0 ? count : 1);
    if (indexes == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    Py_ssize_t kept = 0;
    for (Py_ssize_t i = 0; i < count; i++) {
        int contains = PySet_Contains(self->takes, PyTuple_GET_ITEM(names, i));
        if (contains < 0) {
            PyMem_Free(indexes);
            return -1;
        }
        if (contains) {
            indexes[kept++] = i;
        }
    }
    PyObject *kept_names = PyTuple_New(kept);
    if (kept_names == NULL) {
        PyMem_Free(indexes);
        return -1;
    }
    for (Py_ssize_t j = 0; j < kept; j++) {
        PyTuple_SET_ITEM(kept_names, j, Py_NewRef(PyTuple_GET_ITEM(names, indexes[j])));
    }
    /* Swapped in only once complete: a finalizer run by the allocations above may have
     * called this listener, and learned, meanwhile. */
    PyMem_Free(self->kept_indexes);
    self->kept_indexes = indexes;
    self->kept_run = kept > 0 && indexes[kept - 1] - indexes[0] == kept - 1 ? indexes[0] : -1;
    Py_XSETREF(self->kept_names, kept_names);
    Py_XSETREF(self->seen_names, Py_NewRef(names));
    return 0;
}

/* _native.FilteredListener.__call__'s twin. */
static PyObject *
filtered_vectorcall(PyObject *callable, PyObject *const *args, size_t nargsf, PyObject *names)
{
    FilteredListener *self = (FilteredListener *)callable;
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    if (nargs != 0) {
        PyErr_Format(PyExc_TypeError,
                     "Cannot call listener %R with %zd positional argument(s): listeners take "
                     "keyword arguments only; pass each one by name, as listener(name=value)",
                     self->listener, nargs);
        return NULL;
    }
    if (names == NULL) { /* no keyword arguments: none to filter */
        return PyObject_Vectorcall(self->listener, args, 0, NULL);
    }
    if (!same_names(self->seen_names, names) && filtered_learn(self, names) < 0) {
        return NULL;
    }
    PyObject *kept_names = self->kept_names;
    Py_ssize_t kept = PyTuple_GET_SIZE(kept_names);
    PyObject *listener = self->listener;
    vectorcallfunc call = PyVectorcall_Function(listener);
    if (self->kept_run >= 0 && call != NULL) {
        /* The kept values lie side by side in args (borrowed, as args are): pass them as
         * they are. ``kept_names`` is ours for the call: the listener may make another fire
         * relearn and drop it. */
        Py_INCREF(kept_names);
        PyObject *result = call(listener, args + self->kept_run, 0, kept_names);
        Py_DECREF(kept_names);
        return result;
    }
    PyObject *small[SMALL_CALL];
    PyObject **values = kept <= SMALL_CALL ? small : PyMem_New(PyObject *, kept);
    if (values == NULL) {
        return PyErr_NoMemory();
    }
    for (Py_ssize_t j = 0; j < kept; j++) {
        values[j] = args[self->kept_indexes[j]]; /* borrowed, as args are */
    }
    Py_INCREF(kept_names);
    PyObject *result = PyObject_Vectorcall(listener, values, 0, kept ? kept_names : NULL);
    Py_DECREF(kept_names);
    if (values != small) {
        PyMem_Free(values);
    }
    return result;
}

/* _native.FilteredListener.__init__'s twin. */
static PyObject *
filtered_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    PyObject *listener, *takes;
    if (kwargs != NULL && PyDict_GET_SIZE(kwargs) != 0) {
        return PyErr_Format(PyExc_TypeError, "FilteredListener() takes listener and takes");
    }
    if (!PyArg_ParseTuple(args, "OO!:FilteredListener", &listener, &PyFrozenSet_Type, &takes)) {
        return NULL;
    }
    FilteredListener *self = (FilteredListener *)type->tp_alloc(type, 0);
    if (self == NULL) {
        return NULL;
    }
    self->vectorcall = filtered_vectorcall;
    self->kept_run = -1;
    self->listener = Py_NewRef(listener);
    self->takes = Py_NewRef(takes);
    return (PyObject *)self;
}

static int
filtered_traverse(FilteredListener *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(self->listener);
    Py_VISIT(self->takes);
    Py_VISIT(self->seen_names);
    Py_VISIT(self->kept_names);
    return 0;
}

static int
filtered_clear(FilteredListener *self)
{
    Py_CLEAR(self->listener);
    Py_CLEAR(self->takes);
    Py_CLEAR(self->seen_names);
    Py_CLEAR(self->kept_names);
    return 0;
}

static void
filtered_dealloc(FilteredListener *self)
{
    PyTypeObject *type = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    filtered_clear(self);
    PyMem_Free(self->kept_indexes);
    type->tp_free((PyObject *)self);
    Py_DECREF(type);
}

/* _native.FilteredListener.__repr__'s twin. */
static PyObject *
filtered_repr(FilteredListener *self)
{
    PyObject *takes = PySequence_List(self->takes);
    if (takes == NULL || PyList_Sort(takes) < 0) {
        Py_XDECREF(takes);
        return NULL;
    }
    PyObject *repr = PyUnicode_FromFormat("<filtered %R taking %R>", self->listener, takes);
    Py_DECREF(takes);
    return repr;
}

static PyMemberDef filtered_members[] = {
    {"__wrapped__", Py_T_OBJECT_EX, offsetof(FilteredListener, listener), Py_READONLY,
     PyDoc_STR("The listener.")},
    {"takes", Py_T_OBJECT_EX, offsetof(FilteredListener, takes), Py_READONLY,
     PyDoc_STR("The keyword arguments the listener gets, where a fire passes them.")},
    {"__vectorcalloffset__", Py_T_PYSSIZET, offsetof(FilteredListener, vectorcall), Py_READONLY},
    {NULL, 0, 0, 0, NULL},
};

static PyType_Slot filtered_listener_slots[] = {
    {Py_tp_doc, (void *)PyDoc_STR("Calls a listener with only the keyword arguments it takes.")},
    {Py_tp_call, PyVectorcall_Call},
    {Py_tp_new, filtered_new},
    {Py_tp_traverse, filtered_traverse},
    {Py_tp_clear, filtered_clear},
    {Py_tp_dealloc, filtered_dealloc},
    {Py_tp_repr, filtered_repr},
    {Py_tp_members, filtered_members}, /* __vectorcalloffset__ sets tp_vectorcall_offset */
    {0, NULL},
};

static PyType_Spec filtered_listener_spec = {
    .name = "locust_events._speedups.FilteredListener",
    .basicsize = sizeof(FilteredListener),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL,
    .slots = filtered_listener_slots,
};


/* keywords_to(target) and call_with(function, arguments): _native's twins. A spawned call
 * keeps its keyword arguments as one tuple, their values then the names tuple the vectorcall
 * passed (a constant of the calling code, usually): no dict is built for it, and the cycle
 * collector does not track the tuple (its values are tracked on their own; only a cycle
 * through a call still queued in a pool that is never run or closed would outlive it). */
static PyObject *
forward_keywords(PyObject *target, PyObject *const *args, Py_ssize_t nargs, PyObject *names)
{
    if (nargs != 0) {
        return PyErr_Format(PyExc_TypeError, "Cannot call %R with %zd positional argument(s): it "
                            "takes keyword arguments only; pass each one by name", target, nargs);
    }
    Py_ssize_t count = names == NULL ? 0 : PyTuple_GET_SIZE(names);
    PyObject *arguments = PyTuple_New(count + 1);
    if (arguments == NULL) {
        return NULL;
    }
    PyObject_GC_UnTrack(arguments);
    for (Py_ssize_t i = 0; i < count; i++) {
        PyTuple_SET_ITEM(arguments, i, Py_NewRef(args[i]));
    }
    PyObject *last = names == NULL ? PyTuple_New(0) : Py_NewRef(names);
    PyTuple_SET_ITEM(arguments, count, last); /* NULL is safe: the tuple is not called then */
    PyObject *result = last == NULL ? NULL : PyObject_CallOneArg(target, arguments);
    Py_DECREF(arguments);
    return result;
}

static PyMethodDef forward_keywords_def = {"forward_keywords", (PyCFunction)(void (*)(void))
                                           forward_keywords, METH_FASTCALL | METH_KEYWORDS, NULL};

static PyObject *
keywords_to(PyObject *module, PyObject *target)
{
    return PyCFunction_New(&forward_keywords_def, target);
}

static PyObject *
call_with(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    Py_ssize_t count = nargs == 2 && PyTuple_CheckExact(args[1]) ? PyTuple_GET_SIZE(args[1]) : 0;
    PyObject *names = count ? PyTuple_GET_ITEM(args[1], count - 1) : NULL;
    int valid = names != NULL && PyTuple_CheckExact(names) && PyTuple_GET_SIZE(names) == count - 1;
    for (Py_ssize_t i = 0; valid && i < count - 1; i++) {
        valid = PyUnicode_Check(PyTuple_GET_ITEM(names, i));
    }
    if (!valid) {
        return PyErr_Format(PyExc_TypeError, "call_with(function, arguments) takes arguments as "
                            "keywords_to packs them: their values, then the tuple of their names");
    }
    return PyObject_Vectorcall(args[0], &PyTuple_GET_ITEM(args[1], 0), 0, count > 1 ? names : NULL);
}

static PyMethodDef module_methods[] = {
    {"keywords_to", keywords_to, METH_O, PyDoc_STR("See _native.keywords_to.")},
    {"call_with", (PyCFunction)(void (*)(void))call_with, METH_FASTCALL,
     PyDoc_STR("See _native.call_with.")},
    {NULL, NULL, 0, NULL},
};

/* Measurement: EventHook.measure's context manager, as _measure.py's (the docstring there
 * says what it does); compiled because its Python twin costs several direct calls. */

/* _measure.Measurement's twin. */
typedef struct {
    PyObject_HEAD
    PyObject *hook;         /* what fires: has a fire(**kwargs) method */
    PyObject *request_meta; /* dict, the block's to change */
    double started;         /* time.perf_counter() on entering */
    ModuleState *state;     /* of the module that made the type */
} Measurement;

/* time.time() and time.perf_counter() (kept in the module state as _measure.py keeps them) as
 * C doubles; -1.0 with an exception set if one failed. Their clocks are public C API since 3.13
 * (PyTime_Time, PyTime_PerfCounter); before, only the Python functions are. */
#if PY_VERSION_HEX >= 0x030D0000
static double
read_clock(int (*clock)(PyTime_t *))
{
    PyTime_t now;
    return clock(&now) < 0 ? -1.0 : PyTime_AsSecondsDouble(now);
}
#define WALL_CLOCK(state) read_clock(PyTime_Time)
#define PERF_COUNTER(state) read_clock(PyTime_PerfCounter)
#else
static double
read_clock(PyObject *clock)
{
    PyObject *now = PyObject_CallNoArgs(clock);
    if (now == NULL) {
        return -1.0;
    }
    double seconds = PyFloat_AsDouble(now);
    Py_DECREF(now);
    return seconds;
}
#define WALL_CLOCK(state) read_clock((state)->wall_clock)
#define PERF_COUNTER(state) read_clock((state)->perf_counter)
#endif

/* _measure.Measurement.__init__'s twin, for HookCore.measure and Measurement(...). */
static PyObject *
measurement_create(ModuleState *state, PyObject *hook, PyObject *request_type, PyObject *name,
                   PyObject *response_length, PyObject *context)
{
    PyObject *template = state->request_meta_template;
    PyObject **keys = state->keys;
    if (state->template_request_type != request_type) {
        if (PyDict_SetItem(template, keys[REQUEST_TYPE], request_type) < 0) {
            return NULL;
        }
        Py_SETREF(state->template_request_type, Py_NewRef(request_type));
    }
    if (state->template_name != name) {
        if (PyDict_SetItem(template, keys[NAME], name) < 0) {
            return NULL;
        }
        Py_SETREF(state->template_name, Py_NewRef(name));
    }
    /* ``context or {}``, as Locust's measure(): an empty dict given is not the one passed. */
    int context_given = context == Py_None ? 0 : PyObject_IsTrue(context);
    if (context_given < 0) {
        return NULL;
    }
    Measurement *self = PyObject_GC_New(Measurement, state->measurement_type);
    if (self == NULL) {
        return NULL;
    }
    self->state = state;
    self->hook = Py_NewRef(hook);
    self->started = 0.0;
    PyObject *request_meta = self->request_meta = PyDict_Copy(template);
    context = context_given ? Py_NewRef(context) : PyDict_New();
    /* The template already holds response_length 0, the usual value: set it only if not. */
    int failed = request_meta == NULL || context == NULL ||
                 (response_length != PyTuple_GET_ITEM(state->request_meta_values,
                                                      RESPONSE_LENGTH) &&
                  PyDict_SetItem(request_meta, keys[RESPONSE_LENGTH], response_length) < 0) ||
                 PyDict_SetItem(request_meta, keys[CONTEXT], context) < 0;
    Py_XDECREF(context);
    PyObject_GC_Track(self);
    if (failed) {
        Py_DECREF(self);
        return NULL;
    }
    return (PyObject *)self;
}

/* Measurement(hook, request_type, name, response_length, context, /): _measure.Measurement's
 * __init__ (HookCore.measure calls measurement_create itself). */
static PyObject *
measurement_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    if ((kwargs != NULL && PyDict_GET_SIZE(kwargs) != 0) || PyTuple_GET_SIZE(args) != 5) {
        return PyErr_Format(PyExc_TypeError,
                            "Measurement() takes hook, request_type, name, response_length and "
                            "context, by position");
    }
    /* The type is final: it is the module's own, whose state is right there. */
    ModuleState *state = (ModuleState *)PyType_GetModuleState(type);
    if (state == NULL) {
        return NULL;
    }
    return measurement_create(state, PyTuple_GET_ITEM(args, 0), PyTuple_GET_ITEM(args, 1),
                              PyTuple_GET_ITEM(args, 2), PyTuple_GET_ITEM(args, 3),
                              PyTuple_GET_ITEM(args, 4));
}

static int
measurement_traverse(Measurement *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(self->hook);
    Py_VISIT(self->request_meta);
    return 0;
}

static int
measurement_clear(Measurement *self)
{
    Py_CLEAR(self->hook);
    Py_CLEAR(self->request_meta);
    return 0;
}

static void
measurement_dealloc(Measurement *self)
{
    PyTypeObject *type = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    measurement_clear(self);
    type->tp_free((PyObject *)self);
    Py_DECREF(type);
}

/* _measure.Measurement.__enter__'s twin. */
static PyObject *
measurement_enter(Measurement *self, PyObject *unused)
{
    if (self->request_meta == NULL) {
        return PyErr_Format(PyExc_RuntimeError, "Measurement was cleared");
    }
    double wall_time = WALL_CLOCK(self->state);
    if (wall_time == -1.0 && PyErr_Occurred()) {
        return NULL;
    }
    PyObject *start_time = PyFloat_FromDouble(wall_time);
    if (start_time == NULL) {
        return NULL;
    }
    int failed = PyDict_SetItem(self->request_meta, self->state->keys[START_TIME], start_time);
    Py_DECREF(start_time);
    if (failed < 0) {
        return NULL;
    }
    self->started = PERF_COUNTER(self->state);
    if (self->started == -1.0 && PyErr_Occurred()) {
        return NULL;
    }
    return Py_NewRef(self->request_meta);
}

/* self._hook.fire(**request_meta), without the dict copy and unpacking ``**`` costs: the
 * values go into a vectorcall array, under request_names when the block added no keys. */
static PyObject *
fire_request_meta(Measurement *self, int swallowed)
{
    PyObject *request_meta = self->request_meta;
    PyObject *request_names = self->state->request_names;
    Py_ssize_t count = PyDict_GET_SIZE(request_meta);
    PyObject *small[1 + KEY_COUNT];
    PyObject **stack = count < KEY_COUNT ? small : PyMem_New(PyObject *, 1 + count);
    PyObject *names = count == PyTuple_GET_SIZE(request_names) ? Py_NewRef(request_names)
                                                                : PyTuple_New(count);
    if (stack == NULL || names == NULL) {
        Py_XDECREF(names);
        if (stack != small) {
            PyMem_Free(stack);
        }
        return PyErr_NoMemory();
    }
    /* Our own references: a listener may reach request_meta and change it while we fire. */
    stack[0] = Py_NewRef(self->hook);
    PyObject *key, *value;
    Py_ssize_t position = 0, i = 0;
    int failed = 0;
    while (i < count && PyDict_Next(request_meta, &position, &key, &value)) {
        stack[1 + i] = Py_NewRef(value);
        if (names == request_names && key != PyTuple_GET_ITEM(request_names, i)) {
            /* Same count, other keys: the block replaced one. Name them all afresh. */
            Py_SETREF(names, PyTuple_New(count));
            if (names == NULL) {
                failed = 1;
                i++;
                break;
            }
            for (Py_ssize_t j = 0; j < i; j++) {
                PyTuple_SET_ITEM(names, j, Py_NewRef(PyTuple_GET_ITEM(request_names, j)));
            }
        }
        if (names != request_names) {
            if (!PyUnicode_Check(key)) {
                PyErr_SetString(PyExc_TypeError, "keywords must be strings");
                failed = 1;
                i++;
                break;
            }
            PyTuple_SET_ITEM(names, i, Py_NewRef(key));
        }
        i++;
    }
    if (!failed && i != count) { /* a finalizer run by the collector changed request_meta */
        PyErr_SetString(PyExc_RuntimeError, "request_meta changed size while being fired");
        failed = 1;
    }
    PyObject *result = NULL;
    if (!failed) {
        /* No PY_VECTORCALL_ARGUMENTS_OFFSET: stack[-1] is not ours to lend. */
        result = PyObject_VectorcallMethod(self->state->keys[FIRE], stack, 1, names);
    }
    for (Py_ssize_t j = 0; j < 1 + i; j++) {
        Py_DECREF(stack[j]);
    }
    Py_XDECREF(names);
    if (stack != small) {
        PyMem_Free(stack);
    }
    if (result == NULL) {
        return NULL;
    }
    Py_DECREF(result);
    return PyBool_FromLong(swallowed);
}

/* __exit__(exc_type, exc, traceback): _measure.Measurement.__exit__'s twin. Fires once;
 * swallows an Exception, not a BaseException. */
static PyObject *
measurement_exit(Measurement *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3) {
        return PyErr_Format(PyExc_TypeError, "__exit__() takes exc_type, exc and traceback");
    }
    double now = PERF_COUNTER(self->state);
    if (now == -1.0 && PyErr_Occurred()) {
        return NULL;
    }
    if (self->request_meta == NULL) {
        return PyErr_Format(PyExc_RuntimeError, "Measurement was cleared");
    }
    PyObject **keys = self->state->keys;
    /* isinstance(exc, Exception), answered at once for the usual exc=None */
    int swallowed = args[1] == Py_None ? 0 : PyObject_IsInstance(args[1], PyExc_Exception);
    if (swallowed < 0 ||
        (swallowed && PyDict_SetItem(self->request_meta, keys[EXCEPTION], args[1]) < 0)) {
        return NULL;
    }
    PyObject *response_time = PyFloat_FromDouble((now - self->started) * 1000.0);
    if (response_time == NULL) {
        return NULL;
    }
    int failed = PyDict_SetItem(self->request_meta, keys[RESPONSE_TIME], response_time);
    Py_DECREF(response_time);
    return failed < 0 ? NULL : fire_request_meta(self, swallowed);
}

static PyMethodDef measurement_methods[] = {
    {"__enter__", (PyCFunction)measurement_enter, METH_NOARGS,
     PyDoc_STR("Start the clock and return the request_meta dict.")},
    {"__exit__", (PyCFunction)(void (*)(void))measurement_exit, METH_FASTCALL,
     PyDoc_STR("Fire the hook once with request_meta; swallow an Exception.")},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot measurement_slots[] = {
    {Py_tp_doc, (void *)PyDoc_STR("Context manager returned by EventHook.measure.")},
    {Py_tp_new, measurement_new},
    {Py_tp_traverse, measurement_traverse},
    {Py_tp_clear, measurement_clear},
    {Py_tp_dealloc, measurement_dealloc},
    {Py_tp_methods, measurement_methods},
    {0, NULL},
};

static PyType_Spec measurement_spec = {
    .name = "locust_events._speedups.Measurement",
    .basicsize = sizeof(Measurement),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE | Py_TPFLAGS_HAVE_GC,
    .slots = measurement_slots,
};

/* The module: multi-phase initialization (PEP 489). Each module object builds its own
 * types and strings in module_exec; nothing is shared between interpreters. */

static PyTypeObject *
add_type(PyObject *module, PyType_Spec *spec)
{
    PyObject *type = PyType_FromModuleAndSpec(module, spec, NULL);
    if (type == NULL || PyModule_AddObjectRef(module, strrchr(spec->name, '.') + 1, type) < 0) {
        Py_XDECREF(type);
        return NULL;
    }
    return (PyTypeObject *)type;
}

static int
module_exec(PyObject *module)
{
    ModuleState *state = (ModuleState *)PyModule_GetState(module);
    if ((state->str_reverse = PyUnicode_InternFromString("reverse")) == NULL ||
        (state->str_listener_failed = PyUnicode_InternFromString("_listener_failed")) == NULL) {
        return -1;
    }
    for (int i = 0; i < KEY_COUNT; i++) {
        if ((state->keys[i] = PyUnicode_InternFromString(key_texts[i])) == NULL) {
            return -1;
        }
    }
    /* The template's values: None, but response_length 0 (measure()'s default). */
    PyObject *values = state->request_meta_values = PyTuple_New(START_TIME);
    PyObject *template = state->request_meta_template = PyDict_New();
    PyObject *names = state->request_names = PyTuple_New(RESPONSE_TIME + 1);
    if (values == NULL || template == NULL || names == NULL) {
        return -1;
    }
    for (int i = 0; i <= RESPONSE_TIME; i++) {
        PyTuple_SET_ITEM(names, i, Py_NewRef(state->keys[i]));
    }
    state->template_request_type = Py_NewRef(Py_None);
    state->template_name = Py_NewRef(Py_None);
    for (int i = 0; i < START_TIME; i++) {
        PyObject *value = i == RESPONSE_LENGTH ? PyLong_FromLong(0) : Py_NewRef(Py_None);
        if (value == NULL) {
            return -1;
        }
        PyTuple_SET_ITEM(values, i, value);
        if (PyDict_SetItem(template, state->keys[i], value) < 0) {
            return -1;
        }
    }
    if ((state->hookcore_type = add_type(module, &hookcore_spec)) == NULL ||
        (state->filtered_listener_type = add_type(module, &filtered_listener_spec)) == NULL ||
        (state->measurement_type = add_type(module, &measurement_spec)) == NULL) {
        return -1;
    }
    PyObject *time = PyImport_ImportModule("time");
    if (time == NULL) {
        return -1;
    }
    state->wall_clock = PyObject_GetAttrString(time, "time");
    state->perf_counter = PyObject_GetAttrString(time, "perf_counter");
    Py_DECREF(time);
    if (state->wall_clock == NULL || state->perf_counter == NULL) {
        return -1;
    }
    return 0;
}

/* Every object the state holds but the keys, which module_traverse and module_clear walk. */
#define STATE_OBJECTS(DO) \
    DO(hookcore_type) DO(filtered_listener_type) DO(measurement_type) DO(str_reverse) \
    DO(str_listener_failed) DO(request_names) DO(request_meta_values) \
    DO(request_meta_template) DO(template_request_type) DO(template_name) DO(wall_clock) \
    DO(perf_counter)

static int
module_traverse(PyObject *module, visitproc visit, void *arg)
{
    ModuleState *state = (ModuleState *)PyModule_GetState(module);
#define VISIT_FIELD(field) Py_VISIT(state->field);
    STATE_OBJECTS(VISIT_FIELD)
    for (int i = 0; i < KEY_COUNT; i++) {
        Py_VISIT(state->keys[i]);
    }
    return 0;
}

static int
module_clear(PyObject *module)
{
    ModuleState *state = (ModuleState *)PyModule_GetState(module);
#define CLEAR_FIELD(field) Py_CLEAR(state->field);
    STATE_OBJECTS(CLEAR_FIELD)
    for (int i = 0; i < KEY_COUNT; i++) {
        Py_CLEAR(state->keys[i]);
    }
    return 0;
}

static void
module_free(void *module)
{
    module_clear((PyObject *)module);
}

static PyModuleDef_Slot module_slots[] = {
    {Py_mod_exec, module_exec},
#if PY_VERSION_HEX >= 0x030C0000
    /* No static state: each interpreter, even one with its own GIL, gets its own module. */
    {Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED},
#endif
#if PY_VERSION_HEX >= 0x030D0000
    /* Not free-thread safe: a hook's listener tuples and names cache, a FilteredListener's
     * learned names and a Measurement's request_meta are read and replaced without locks,
     * which the GIL makes safe. A free-threaded build enables the GIL on import. */
    {Py_mod_gil, Py_MOD_GIL_USED},
#endif
    {0, NULL},
};

static struct PyModuleDef speedups_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "locust_events._speedups",
    .m_doc = PyDoc_STR("The calling loop of a hook and measure(), compiled; _native.py and "
                        "_measure.py are their twins."),
    .m_size = sizeof(ModuleState),
    .m_methods = module_methods,
    .m_slots = module_slots,
    .m_traverse = module_traverse,
    .m_clear = module_clear,
    .m_free = module_free,
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
    return PyModuleDef_Init(&speedups_module);
}
