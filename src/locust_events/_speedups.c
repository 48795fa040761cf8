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
#define Py_T_PYSSIZET T_PYSSIZET
#define Py_READONLY READONLY
#endif

/* The keys of Measurement's request_meta, interned, in the order _measure.py inserts them. */
enum { REQUEST_TYPE, NAME, RESPONSE_LENGTH, CONTEXT, EXCEPTION, URL, RESPONSE, START_TIME,
       RESPONSE_TIME, FIRE, KEY_COUNT };
static const char *const key_texts[KEY_COUNT] = {
    "request_type", "name", "response_length", "context", "exception", "url", "response",
    "start_time", "response_time", "fire"};

/* What SpawnedListener's enqueue keeps, in the module state: the names of the CallQueue
 * fields it reads and the methods it calls (interned), and deque.append, called directly
 * on the pool's deque. */
typedef struct {
    PyTypeObject *spawned_listener_type;
    PyTypeObject *fired_keywords_type; /* what a queued call keeps of its fire */
    PyObject *str_calls, *str_room, *str_home, *str_idle, *str_wake_one, *str_submit,
        *str_append, *str_queue;
    PyObject *deque_type;
    PyObject *deque_append; /* the method descriptor collections.deque.append */
} EnqueueState;

/* What the workers' round (run_queued_calls) keeps, in the module state: the names of the
 * pool's fields and methods it uses (interned), deque.popleft, and where the hot fields of
 * the last pool and queue classes it ran for are. */
#define WORKER_NAMES(X)                                                                        \
    X(queue, "_queue")                                                                         \
    X(calls, "calls")                                                                          \
    X(current_calls, "_current_calls")                                                         \
    X(in_line, "_in_line")                                                                     \
    X(joiners, "_joiners")                                                                     \
    X(thread_pool, "_thread_pool")                                                             \
    X(join_deadline, "_join_deadline")                                                         \
    X(high_water, "_high_water")                                                               \
    X(completed, "_completed")                                                                 \
    X(let_late_joiners_return, "_let_late_joiners_return")                                     \
    X(refill_soon, "_refill_soon")                                                             \
    X(batch_taken, "batch_taken")                                                              \
    X(call_failed, "_call_failed")                                                             \
    X(finished, "_finished")                                                                   \
    X(events, "events")                                                                        \
    X(spawn, "spawn")                                                                          \
    X(get, "get")                                                                              \
    X(popleft, "popleft")

typedef struct {
#define DECLARE_NAME(field, text) PyObject *str_##field;
    WORKER_NAMES(DECLARE_NAME)
#undef DECLARE_NAME
    PyObject *deque_type;
    PyObject *deque_popleft; /* the method descriptor collections.deque.popleft */
    PyTypeObject *pool_type; /* the pool class whose slot offsets follow, if any yet */
    Py_ssize_t high_water_offset, completed_offset, join_deadline_offset;
    PyTypeObject *queue_type; /* the CallQueue class whose slot offset follows */
    Py_ssize_t calls_offset;
    PyTypeObject *fired_keywords_type; /* borrowed from EnqueueState, which owns it */
} WorkerState;

/* Everything the module keeps lives here, one per module object (multi-phase init): the
 * module holds no static PyObject*, so each (sub-)interpreter gets its own. Instances reach
 * it through a pointer stored at creation (their type keeps the module alive), so a fire
 * pays one load for it, not a lookup. */
typedef struct {
    PyTypeObject *hookcore_type;
    PyTypeObject *filtered_listener_type;
    PyTypeObject *measurement_type;
    PyTypeObject *special_method_type; /* of Measurement.__enter__ and __exit__ */
    PyObject *str_reverse;         /* "reverse", interned */
    PyObject *str_listener_failed; /* "_listener_failed", interned */
    PyObject *keys[KEY_COUNT];     /* key_texts, interned */
    /* The names a fire from measure() passes, in its order. */
    PyObject *request_names;
    /* The template's first values, by key index (its first START_TIME keys): None, and
     * response_length 0. */
    PyObject *request_meta_values;
    /* request_meta as a new Measurement starts it: the first seven keys, with room for nine,
     * so that each Measurement copies it (a memcpy) instead of building and growing a dict.
     * It keeps the request_type and name of the last measure(): a call site passes the same
     * ones each time, and its next copy then needs no write for them. */
    PyObject *request_meta_template;
    EnqueueState enqueue; /* SpawnedListener's */
    WorkerState worker;   /* run_queued_calls's */
    PyObject *template_request_type; /* what the template holds: None, then the last ones */
    PyObject *template_name;
} ModuleState;

static struct PyModuleDef speedups_module;

/* The state of the module that defined ``type`` or one of its bases (a Python subclass of
 * HookCore is not ours, its base is). Borrowed; NULL with an exception set if none. */
static ModuleState *
state_of_type(PyTypeObject *type)
{
#if PY_VERSION_HEX >= 0x030B0000
    PyObject *module = PyType_GetModuleByDef(type, &speedups_module);
    return module == NULL ? NULL : (ModuleState *)PyModule_GetState(module);
#else /* 3.10 has no PyType_GetModuleByDef: walk the MRO as it does */
    PyObject *mro = type->tp_mro;
    for (Py_ssize_t i = 0; mro != NULL && i < PyTuple_GET_SIZE(mro); i++) {
        PyTypeObject *base = (PyTypeObject *)PyTuple_GET_ITEM(mro, i);
        if (!(base->tp_flags & Py_TPFLAGS_HEAPTYPE)) {
            continue;
        }
        PyObject *module = ((PyHeapTypeObject *)base)->ht_module;
        if (module != NULL && PyModule_GetDef(module) == &speedups_module) {
            return (ModuleState *)PyModule_GetState(module);
        }
    }
    PyErr_Format(PyExc_TypeError, "PyType_GetModuleByDef: No superclass of '%s' has the "
                 "given module", type->tp_name);
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

/* _native.HookCore.__init__'s twin. */
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
hookcore_dealloc(HookCore *self)
{
    /* Also the dealloc of Python subclasses (EventHook): their subtype_dealloc leaves the
     * type's reference to the first heap-type base's dealloc, this one. */
    PyTypeObject *type = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    hookcore_clear(self);
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
        PyErr_Format(PyExc_AttributeError,
                     "'%.200s' object has no listeners: HookCore.__init__ was not called",
                     Py_TYPE(self)->tp_name);
        return NULL;
    }
    if (!PyTuple_Check(listeners)) {
        PyErr_Format(PyExc_TypeError, "a hook's listeners must be a tuple, not '%.200s'",
                     Py_TYPE(listeners)->tp_name);
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
 * TypeError naming the hook (its ``name``, else its type's name). */
static PyObject *
refuse_positional_arguments(HookCore *self, Py_ssize_t nargs)
{
    PyObject *name = PyObject_GetAttrString((PyObject *)self, "name");
    if (name == NULL) {
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

/* fire(*, reverse=False, **kwargs): _native.HookCore.fire's twin. Call every listener with the caller's keyword arguments,
 * passed on as they came (values array and names tuple, borrowed): no dict is built. */
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
            /* The compiler's names are interned, so one of them is "reverse" only if it is
             * ours; a name built at run time (passed with **mapping) is compared by value. */
            if (name == str_reverse ||
                (!PyUnicode_CHECK_INTERNED(name) && PyUnicode_Compare(name, str_reverse) == 0)) {
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
        PyErr_SetString(PyExc_TypeError, "_listener_failed() takes a listener and an exception");
        return NULL;
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
        PyErr_Format(PyExc_TypeError,
                     "measure() takes from 2 to 4 positional arguments but %zd were given",
                     nargs);
        return NULL;
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
            PyErr_Format(PyExc_TypeError,
                         "measure() got an unexpected keyword argument '%U'", keyword);
            return NULL;
        }
        if (given[at]) {
            PyErr_Format(PyExc_TypeError, "measure() got multiple values for argument '%s'",
                         measure_parameters[at]);
            return NULL;
        }
        values[at] = args[nargs + k];
        given[at] = 1;
    }
    for (int at = MEASURE_REQUEST_TYPE; at <= MEASURE_NAME; at++) {
        if (values[at] == NULL) {
            PyErr_Format(PyExc_TypeError, "measure() missing required argument '%s'",
                         measure_parameters[at]);
            return NULL;
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
         "``response_length``, ``context``, ``exception``, ``start_time``, ``url``,\n"
         "``response``); whatever it adds or changes is passed on. An ``Exception`` raised in "
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
    if (nargs != 0 || names == NULL) { /* not a hook's call: pass it on as it is */
        return PyObject_Vectorcall(self->listener, args, nargsf, names);
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
    if ((kwargs != NULL && PyDict_GET_SIZE(kwargs) != 0) ||
        !PyArg_UnpackTuple(args, "FilteredListener", 2, 2, &listener, &takes)) {
        if (!PyErr_Occurred()) {
            PyErr_SetString(PyExc_TypeError, "FilteredListener() takes listener and takes");
        }
        return NULL;
    }
    if (!PyFrozenSet_Check(takes)) {
        PyErr_SetString(PyExc_TypeError, "FilteredListener(): takes must be a frozenset");
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
    return PyUnicode_FromFormat("<filtered %R taking %R>", self->listener, self->takes);
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


/* Measurement: EventHook.measure's context manager, as _measure.py's (the docstring there
 * says what it does); compiled because its Python twin costs several direct calls. */

/* time.time() and time.perf_counter(), read as those functions read them (their clocks
 * became public API in 3.13; the same functions had a leading underscore before). */
#if PY_VERSION_HEX >= 0x030D0000
static double
wall_clock(void)
{
    PyTime_t now;
    return PyTime_Time(&now) < 0 ? -1.0 : PyTime_AsSecondsDouble(now);
}

static double
perf_counter(void)
{
    PyTime_t now;
    return PyTime_PerfCounter(&now) < 0 ? -1.0 : PyTime_AsSecondsDouble(now);
}
#else
static double
wall_clock(void)
{
    return _PyTime_AsSecondsDouble(_PyTime_GetSystemClock());
}

static double
perf_counter(void)
{
    return _PyTime_AsSecondsDouble(_PyTime_GetPerfCounter());
}
#endif

/* _measure.Measurement's twin. */
typedef struct {
    PyObject_HEAD
    vectorcallfunc vectorcall; /* measurement_call: __enter__ and __exit__, see below */
    PyObject *hook;            /* what fires: has a fire(**kwargs) method */
    PyObject *request_meta;    /* dict, the block's to change */
    double started;            /* perf_counter() on entering */
    ModuleState *state;        /* of the module that made the type */
    /* What request_meta held when __enter__ returned it, by key index (borrowed: the dict
     * holds them while it is unchanged), and its version then (0: not entered). */
    PyObject *entered_values[START_TIME + 1];
    uint64_t entered_version;
} Measurement;

/* request_meta's version tag (PEP 509): every change to the dict gives it a new one, on
 * 3.11 to 3.13, so an unchanged tag tells __exit__ the block changed nothing and the values
 * need no walk through the dict. 3.14 no longer versions dicts: 0, always walk. */
static uint64_t
dict_version(PyObject *dict)
{
#if PY_VERSION_HEX < 0x030E0000
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations" /* deprecated in 3.12, still kept */
#endif
    return ((PyDictObject *)dict)->ma_version_tag;
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif
#else
    return 0;
#endif
}

static PyObject *measurement_call(PyObject *callable, PyObject *const *args, size_t nargsf,
                                  PyObject *kwnames);

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
    Measurement *self = PyObject_GC_New(Measurement, state->measurement_type);
    if (self == NULL) {
        return NULL;
    }
    self->vectorcall = measurement_call;
    self->state = state;
    self->hook = Py_NewRef(hook);
    self->started = 0.0;
    self->entered_version = 0;
    PyObject *request_meta = self->request_meta = PyDict_Copy(template);
    context = context == Py_None ? PyDict_New() : Py_NewRef(context);
    PyObject **entered = self->entered_values;
    for (int i = 0; i < START_TIME; i++) {
        entered[i] = PyTuple_GET_ITEM(state->request_meta_values, i);
    }
    entered[REQUEST_TYPE] = request_type;
    entered[NAME] = name;
    entered[RESPONSE_LENGTH] = response_length;
    entered[CONTEXT] = context;
    entered[START_TIME] = NULL;
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
 * __init__. The type's vectorcall, so that a call builds one without an argument tuple. */
static PyObject *
measurement_vectorcall(PyObject *type, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    if (nargs != 5 || kwnames != NULL) {
        PyErr_SetString(PyExc_TypeError,
                        "Measurement() takes hook, request_type, name, response_length and "
                        "context, by position");
        return NULL;
    }
    /* The type is final: it is the module's own, whose state is right there. */
    ModuleState *state = (ModuleState *)PyType_GetModuleState((PyTypeObject *)type);
    if (state == NULL) {
        return NULL;
    }
    return measurement_create(state, args[0], args[1], args[2], args[3], args[4]);
}

/* The same, for a call through tp_call (Measurement(*args)). */
static PyObject *
measurement_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    if (kwargs != NULL && PyDict_GET_SIZE(kwargs) != 0) {
        return measurement_vectorcall((PyObject *)type, NULL, 0, kwargs); /* refuses */
    }
    return measurement_vectorcall((PyObject *)type, &PyTuple_GET_ITEM(args, 0),
                                  PyTuple_GET_SIZE(args), NULL);
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
        PyErr_SetString(PyExc_RuntimeError, "Measurement was cleared");
        return NULL;
    }
    double wall_time = wall_clock();
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
    self->entered_values[START_TIME] = start_time; /* the dict's reference */
    self->entered_version = dict_version(self->request_meta);
    self->started = perf_counter();
    if (self->started == -1.0 && PyErr_Occurred()) {
        return NULL;
    }
    return Py_NewRef(self->request_meta);
}

/* self._hook.fire(**request_meta) when the block left request_meta as __enter__ returned it
 * and the exit added response_time: ``stack`` holds the hook and the values, in request_names'
 * order, no walk through the dict needed. Takes the stack's references. */
static PyObject *
fire_entered_values(Measurement *self, PyObject **stack)
{
    PyObject *result = PyObject_VectorcallMethod(self->state->keys[FIRE], stack, 1,
                                                 self->state->request_names);
    for (int i = 0; i <= RESPONSE_TIME + 1; i++) {
        Py_DECREF(stack[i]);
    }
    if (result == NULL) {
        return NULL;
    }
    Py_DECREF(result);
    Py_RETURN_FALSE; /* no exception to swallow: recording one changes request_meta */
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
        PyErr_SetString(PyExc_TypeError, "__exit__() takes exc_type, exc and traceback");
        return NULL;
    }
    double now = perf_counter();
    if (now == -1.0 && PyErr_Occurred()) {
        return NULL;
    }
    if (self->request_meta == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "Measurement was cleared");
        return NULL;
    }
    PyObject **keys = self->state->keys;
    /* isinstance(exc, Exception), answered at once for the usual exc=None */
    int swallowed = args[1] == Py_None ? 0 : PyObject_IsInstance(args[1], PyExc_Exception);
    if (swallowed < 0 ||
        (swallowed && PyDict_SetItem(self->request_meta, keys[EXCEPTION], args[1]) < 0)) {
        return NULL;
    }
    uint64_t version = dict_version(self->request_meta);
    int unchanged = version != 0 && version == self->entered_version;
    self->entered_version = 0; /* entered_values may go stale from here on */
    PyObject *stack[1 + KEY_COUNT];
    if (unchanged) {
        /* Our own references, taken before anything runs that could change request_meta (a
         * finalizer the allocations below run, a listener). */
        stack[0] = Py_NewRef(self->hook);
        for (int i = 0; i <= START_TIME; i++) {
            stack[1 + i] = Py_NewRef(self->entered_values[i]);
        }
    }
    PyObject *response_time = PyFloat_FromDouble((now - self->started) * 1000.0);
    if (response_time == NULL ||
        PyDict_SetItem(self->request_meta, keys[RESPONSE_TIME], response_time) < 0) {
        Py_XDECREF(response_time);
        for (int i = 0; unchanged && i <= START_TIME + 1; i++) {
            Py_DECREF(stack[i]);
        }
        return NULL;
    }
    if (unchanged) {
        stack[1 + RESPONSE_TIME] = response_time;
        return fire_entered_values(self, stack);
    }
    Py_DECREF(response_time);
    return fire_request_meta(self, swallowed);
}

/* A Measurement called: __enter__() with no arguments, __exit__(exc_type, exc, traceback) with
 * three; see SpecialMethod below for why. */
static PyObject *
measurement_call(PyObject *callable, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    if (kwnames == NULL || PyTuple_GET_SIZE(kwnames) == 0) {
        if (nargs == 0) {
            return measurement_enter((Measurement *)callable, NULL);
        }
        if (nargs == 3) {
            return measurement_exit((Measurement *)callable, args, nargs);
        }
    }
    PyErr_SetString(PyExc_TypeError,
                    "a Measurement is a context manager: use it in a with statement (calling "
                    "it is calling its __enter__() or __exit__(exc_type, exc, traceback))");
    return NULL;
}

/* Measurement.__enter__ and Measurement.__exit__. A with statement looks both up on the
 * instance (3.11 to 3.13: _PyObject_LookupSpecial, which binds what it finds), so methods
 * would cost two bound-method objects per block. These bind to the Measurement itself, which
 * measurement_call answers as either: nothing is allocated. Looked up on the class, or called
 * with the instance first (as contextlib.ExitStack does), they behave as methods. */
typedef struct {
    PyObject_HEAD
    int exits; /* 0: __enter__, 1: __exit__ */
} SpecialMethod;

static int
is_measurement(PyObject *object)
{
    /* Any module object's Measurement type: they share their functions. */
    return Py_TYPE(object)->tp_vectorcall == measurement_vectorcall;
}

static PyObject *
special_method_get(PyObject *self, PyObject *instance, PyObject *type)
{
    if (instance == NULL || instance == Py_None) {
        return Py_NewRef(self);
    }
    if (!is_measurement(instance)) {
        PyErr_Format(PyExc_TypeError, "descriptor of Measurement does not apply to '%.200s'",
                     Py_TYPE(instance)->tp_name);
        return NULL;
    }
    return Py_NewRef(instance);
}

static PyObject *
special_method_call(SpecialMethod *self, PyObject *args, PyObject *kwargs)
{
    Py_ssize_t nargs = PyTuple_GET_SIZE(args);
    if (nargs == 0 || !is_measurement(PyTuple_GET_ITEM(args, 0)) ||
        (kwargs != NULL && PyDict_GET_SIZE(kwargs) != 0) || nargs != (self->exits ? 4 : 1)) {
        PyErr_SetString(PyExc_TypeError,
                        self->exits ? "Measurement.__exit__() takes a Measurement, exc_type, "
                                      "exc and traceback"
                                    : "Measurement.__enter__() takes a Measurement");
        return NULL;
    }
    return measurement_call(PyTuple_GET_ITEM(args, 0), &PyTuple_GET_ITEM(args, 1), nargs - 1,
                            NULL);
}

static PyObject *
special_method_repr(SpecialMethod *self)
{
    return PyUnicode_FromFormat("<method '%s' of 'Measurement' objects>",
                                self->exits ? "__exit__" : "__enter__");
}

static int
special_method_traverse(SpecialMethod *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self)); /* Measurement's dict holds us: the collector must see the cycle */
    return 0;
}

static void
special_method_dealloc(SpecialMethod *self)
{
    PyTypeObject *type = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    type->tp_free((PyObject *)self);
    Py_DECREF(type);
}

static PyType_Slot special_method_slots[] = {
    {Py_tp_doc, (void *)PyDoc_STR("Measurement.__enter__ or Measurement.__exit__.")},
    {Py_tp_descr_get, special_method_get},
    {Py_tp_call, special_method_call},
    {Py_tp_repr, special_method_repr},
    {Py_tp_traverse, special_method_traverse},
    {Py_tp_dealloc, special_method_dealloc},
    {0, NULL},
};

static PyType_Spec special_method_spec = {
    .name = "locust_events._speedups.SpecialMethod",
    .basicsize = sizeof(SpecialMethod),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE | Py_TPFLAGS_DISALLOW_INSTANTIATION |
             Py_TPFLAGS_HAVE_GC,
    .slots = special_method_slots,
};

static PyMemberDef measurement_members[] = {
    {"__vectorcalloffset__", Py_T_PYSSIZET, offsetof(Measurement, vectorcall), Py_READONLY},
    {NULL, 0, 0, 0, NULL},
};

static PyType_Slot measurement_slots[] = {
    {Py_tp_doc, (void *)PyDoc_STR("Context manager returned by EventHook.measure.")},
    {Py_tp_new, measurement_new},
    {Py_tp_call, PyVectorcall_Call},
    {Py_tp_traverse, measurement_traverse},
    {Py_tp_clear, measurement_clear},
    {Py_tp_dealloc, measurement_dealloc},
    {Py_tp_members, measurement_members}, /* __vectorcalloffset__ sets tp_vectorcall_offset */
    {0, NULL},
};

static PyType_Spec measurement_spec = {
    .name = "locust_events._speedups.Measurement",
    .basicsize = sizeof(Measurement),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE | Py_TPFLAGS_HAVE_GC |
             Py_TPFLAGS_HAVE_VECTORCALL,
    .slots = measurement_slots,
};


/* FiredKeywords: one fire's keyword arguments, a read-only mapping that behaves as the pure
 * loop's types.MappingProxyType of a dict of them does. A fire makes one (one allocation: the
 * names tuple the call site passed and the values, no dict to build and no key to hash) for
 * each batch listener's event and each spawned listener's call. A batch listener gets that
 * same object: nothing is built per event at delivery either. A pool's worker calls a spawned
 * listener with its values and names as the fire passed them (a vectorcall), without a dict.
 *
 * A lookup by a str compares it with the names (by identity first: a call site's names are
 * constants); everything else a mappingproxy offers (keys, values, items, copy, ==, |,
 * reversed, repr, a lookup by another kind of key) goes through a new dict of the event,
 * which is never handed out itself (only views and copies of it). It is not kept: kept, one
 * dict per event would outlive the listener's use of it and burden the garbage collector
 * (``dict(event)`` asks for keys() once). The names are distinct strs (BatchAccept makes a
 * dict instead for any others). */

typedef struct {
    PyObject_VAR_HEAD
    PyObject *names;     /* the fire's keyword names: a tuple of distinct strs */
    PyObject *values[1]; /* Py_SIZE(self) of them, in the names' order */
} FiredKeywords;

static void fired_keywords_dealloc(FiredKeywords *self);

/* Whether ``obj`` is a FiredKeywords (of any module object). */
static int
is_fired_keywords(PyObject *obj)
{
    return Py_TYPE(obj)->tp_dealloc == (destructor)fired_keywords_dealloc;
}

/* A new FiredKeywords of the fire's ``values`` named ``names`` (NULL: none), not tracked by the
 * garbage collector (see batch_accept_on_slots). */
static PyObject *
fired_keywords_of_call(PyTypeObject *type, PyObject *const *values, PyObject *names)
{
    Py_ssize_t count = names == NULL ? 0 : PyTuple_GET_SIZE(names);
    PyObject *names_held = names == NULL ? PyTuple_New(0) : Py_NewRef(names);
    if (names_held == NULL) {
        return NULL;
    }
    FiredKeywords *self = PyObject_GC_NewVar(FiredKeywords, type, count);
    if (self == NULL) {
        Py_DECREF(names_held);
        return NULL;
    }
    self->names = names_held;
    for (Py_ssize_t i = 0; i < count; i++) {
        self->values[i] = Py_NewRef(values[i]);
    }
    return (PyObject *)self;
}

/* Whether a fire's keyword names can make a FiredKeywords: distinct exact strs (a call from C
 * may pass anything). A call site passes the same tuple each time (BatchAccept asks once
 * for it); ``fire(**mapping)`` a new one each time, whose strs' hashes are cached. */
static int
names_fit_fired_keywords(PyObject *names)
{
    Py_ssize_t count = PyTuple_GET_SIZE(names);
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *name = PyTuple_GET_ITEM(names, i);
        if (!PyUnicode_CheckExact(name)) {
            return 0;
        }
        Py_hash_t hash = PyObject_Hash(name);
        if (hash == -1) {
            PyErr_Clear();
            return 0;
        }
        for (Py_ssize_t j = 0; j < i; j++) {
            PyObject *other = PyTuple_GET_ITEM(names, j);
            if (other == name ||
                (PyObject_Hash(other) == hash && PyUnicode_Compare(other, name) == 0)) {
                return 0;
            }
        }
    }
    return 1;
}

/* A new dict of the keyword arguments ``values`` named ``names`` (a tuple), as a call makes
 * of them for a **kwargs function: sized once. NULL with an exception set. */
static PyObject *
keywords_dict(PyObject *const *values, PyObject *names)
{
#if PY_VERSION_HEX < 0x030E0000
    return _PyStack_AsDict(values, names);
#else
    PyObject *dict = PyDict_New();
    if (dict == NULL) {
        return NULL;
    }
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(names); i++) {
        if (PyDict_SetItem(dict, PyTuple_GET_ITEM(names, i), values[i]) < 0) {
            Py_DECREF(dict);
            return NULL;
        }
    }
    return dict;
#endif
}

/* A new dict of the event (NULL with an exception set). */
static PyObject *
fired_keywords_dict(FiredKeywords *self)
{
    return keywords_dict(self->values, self->names);
}

/* The answer of a new dict of the event to ``ask(dict, argument)``. */
static PyObject *
fired_keywords_as_dict(FiredKeywords *self, PyObject *(*ask)(PyObject *, PyObject *),
                    PyObject *argument)
{
    PyObject *dict = fired_keywords_dict(self);
    if (dict == NULL) {
        return NULL;
    }
    PyObject *answer = ask(dict, argument);
    Py_DECREF(dict);
    return answer;
}

/* The index of the name equal to the str ``key``, or -1. */
static Py_ssize_t
fired_keywords_index(FiredKeywords *self, PyObject *key)
{
    PyObject *const *names = &PyTuple_GET_ITEM(self->names, 0);
    Py_ssize_t count = Py_SIZE(self);
    for (Py_ssize_t i = 0; i < count; i++) {
        if (names[i] == key) {
            return i;
        }
    }
    Py_hash_t hash = PyObject_Hash(key); /* a str's: cached, never fails */
    for (Py_ssize_t i = 0; i < count; i++) {
        if (PyObject_Hash(names[i]) == hash && PyUnicode_Compare(names[i], key) == 0) {
            return i;
        }
    }
    return -1;
}

static Py_ssize_t
fired_keywords_length(FiredKeywords *self)
{
    return Py_SIZE(self);
}

static PyObject *
fired_keywords_subscript(FiredKeywords *self, PyObject *key)
{
    if (!PyUnicode_CheckExact(key)) {
        return fired_keywords_as_dict(self, PyObject_GetItem, key);
    }
    Py_ssize_t index = fired_keywords_index(self, key);
    if (index < 0) {
        PyErr_SetObject(PyExc_KeyError, key);
        return NULL;
    }
    return Py_NewRef(self->values[index]);
}

static int
fired_keywords_contains(FiredKeywords *self, PyObject *key)
{
    if (!PyUnicode_CheckExact(key)) {
        PyObject *dict = fired_keywords_dict(self);
        if (dict == NULL) {
            return -1;
        }
        int found = PyDict_Contains(dict, key);
        Py_DECREF(dict);
        return found;
    }
    return fired_keywords_index(self, key) >= 0;
}

static PyObject *
fired_keywords_iter(FiredKeywords *self)
{
    return PyObject_GetIter(self->names);
}

static PyObject *
fired_keywords_get(FiredKeywords *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs < 1 || nargs > 2) {
        PyErr_Format(PyExc_TypeError, "get expected 1 or 2 arguments, got %zd", nargs);
        return NULL;
    }
    PyObject *fallback = nargs == 2 ? args[1] : Py_None;
    if (!PyUnicode_CheckExact(args[0])) {
        PyObject *dict = fired_keywords_dict(self);
        if (dict == NULL) {
            return NULL;
        }
        PyObject *found = PyObject_CallMethod(dict, "get", "OO", args[0], fallback);
        Py_DECREF(dict);
        return found;
    }
    Py_ssize_t index = fired_keywords_index(self, args[0]);
    return Py_NewRef(index < 0 ? fallback : self->values[index]);
}

/* What the dict of the event answers to ``method`` (keys, values, items, __reversed__):
 * dict's own C function for it, found once in dict's method table (a C pointer, the same
 * in every interpreter), is called directly, not looked up by name on each call. */
static PyObject *
fired_keywords_ask_dict(FiredKeywords *self, const char *method, PyCFunction *found)
{
    PyObject *dict = fired_keywords_dict(self);
    if (dict == NULL) {
        return NULL;
    }
    if (*found == NULL) {
        for (PyMethodDef *def = PyDict_Type.tp_methods; def != NULL && def->ml_name != NULL;
             def++) {
            if (strcmp(def->ml_name, method) == 0 && def->ml_flags == METH_NOARGS) {
                *found = def->ml_meth;
                break;
            }
        }
    }
    PyObject *answer = *found != NULL ? (*found)(dict, NULL)
                                      : PyObject_CallMethod(dict, method, NULL);
    Py_DECREF(dict);
    return answer;
}

static PyObject *
fired_keywords_keys(FiredKeywords *self, PyObject *unused)
{
    static PyCFunction dict_keys;
    return fired_keywords_ask_dict(self, "keys", &dict_keys);
}

static PyObject *
fired_keywords_values(FiredKeywords *self, PyObject *unused)
{
    static PyCFunction dict_values;
    return fired_keywords_ask_dict(self, "values", &dict_values);
}

static PyObject *
fired_keywords_items(FiredKeywords *self, PyObject *unused)
{
    static PyCFunction dict_items;
    return fired_keywords_ask_dict(self, "items", &dict_items);
}

static PyObject *
fired_keywords_reversed(FiredKeywords *self, PyObject *unused)
{
    static PyCFunction dict_reversed;
    return fired_keywords_ask_dict(self, "__reversed__", &dict_reversed);
}

static PyObject *
fired_keywords_copy(FiredKeywords *self, PyObject *unused)
{
    return fired_keywords_dict(self);
}

static PyObject *
fired_keywords_richcompare(FiredKeywords *self, PyObject *other, int op)
{
    PyObject *dict = fired_keywords_dict(self);
    if (dict == NULL) {
        return NULL;
    }
    PyObject *answer = PyObject_RichCompare(dict, other, op);
    Py_DECREF(dict);
    return answer;
}

static Py_hash_t
fired_keywords_hash(FiredKeywords *self)
{
    PyErr_SetString(PyExc_TypeError, "unhashable type: 'dict'"); /* a mappingproxy's hash */
    return -1;
}

/* event | other and other | event: a new dict, as for a mappingproxy. */
static PyObject *
fired_keywords_or(PyObject *left, PyObject *right)
{
    PyObject *operands[2] = {left, right};
    for (int i = 0; i < 2; i++) {
        if (is_fired_keywords(operands[i])) {
            operands[i] = fired_keywords_dict((FiredKeywords *)operands[i]);
        }
        else {
            Py_INCREF(operands[i]);
        }
    }
    PyObject *result = NULL;
    if (operands[0] != NULL && operands[1] != NULL) {
        result = PyNumber_Or(operands[0], operands[1]);
    }
    Py_XDECREF(operands[0]);
    Py_XDECREF(operands[1]);
    return result;
}

static PyObject *
fired_keywords_inplace_or(PyObject *self, PyObject *other)
{
    PyErr_SetString(PyExc_TypeError, "'|=' is not supported by mappingproxy; use '|' instead");
    return NULL;
}

static PyObject *
fired_keywords_repr(FiredKeywords *self)
{
    PyObject *dict = fired_keywords_dict(self);
    if (dict == NULL) {
        return NULL;
    }
    PyObject *text = PyUnicode_FromFormat("mappingproxy(%R)", dict);
    Py_DECREF(dict);
    return text;
}

static PyObject *
fired_keywords_str(FiredKeywords *self)
{
    PyObject *dict = fired_keywords_dict(self);
    if (dict == NULL) {
        return NULL;
    }
    PyObject *text = PyObject_Str(dict);
    Py_DECREF(dict);
    return text;
}

static int
fired_keywords_traverse(FiredKeywords *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(self->names);
    for (Py_ssize_t i = 0; i < Py_SIZE(self); i++) {
        Py_VISIT(self->values[i]);
    }
    return 0;
}

static void
fired_keywords_dealloc(FiredKeywords *self)
{
    PyTypeObject *type = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    Py_XDECREF(self->names);
    for (Py_ssize_t i = 0; i < Py_SIZE(self); i++) {
        Py_XDECREF(self->values[i]);
    }
    type->tp_free((PyObject *)self);
    Py_DECREF(type);
}

static PyMethodDef fired_keywords_methods[] = {
    {"get", (PyCFunction)(void (*)(void))fired_keywords_get, METH_FASTCALL,
     PyDoc_STR("The value for key if the event has it, else default.")},
    {"keys", (PyCFunction)fired_keywords_keys, METH_NOARGS, PyDoc_STR("A view of the names.")},
    {"values", (PyCFunction)fired_keywords_values, METH_NOARGS, PyDoc_STR("A view of the values.")},
    {"items", (PyCFunction)fired_keywords_items, METH_NOARGS, PyDoc_STR("A view of the items.")},
    {"copy", (PyCFunction)fired_keywords_copy, METH_NOARGS, PyDoc_STR("A new dict of the event.")},
    {"__reversed__", (PyCFunction)fired_keywords_reversed, METH_NOARGS,
     PyDoc_STR("The names, last first.")},
    {"__class_getitem__", Py_GenericAlias, METH_O | METH_CLASS,
     PyDoc_STR("See PEP 585.")},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot fired_keywords_slots[] = {
    {Py_tp_doc, (void *)PyDoc_STR("One fire's keyword arguments, as a batch listener gets them "
                                  "and a spawned listener's call keeps them: a read-only "
                                  "mapping.")},
    {Py_tp_dealloc, fired_keywords_dealloc},
    {Py_tp_traverse, fired_keywords_traverse},
    {Py_tp_repr, fired_keywords_repr},
    {Py_tp_str, fired_keywords_str},
    {Py_tp_hash, fired_keywords_hash},
    {Py_tp_richcompare, fired_keywords_richcompare},
    {Py_tp_iter, fired_keywords_iter},
    {Py_tp_methods, fired_keywords_methods},
    {Py_mp_length, fired_keywords_length},
    {Py_mp_subscript, fired_keywords_subscript},
    {Py_sq_contains, fired_keywords_contains},
    {Py_nb_or, fired_keywords_or},
    {Py_nb_inplace_or, fired_keywords_inplace_or},
    {0, NULL},
};

static PyType_Spec fired_keywords_spec = {
    .name = "locust_events._speedups.FiredKeywords",
    .basicsize = offsetof(FiredKeywords, values),
    .itemsize = sizeof(PyObject *),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE | Py_TPFLAGS_HAVE_GC |
             Py_TPFLAGS_MAPPING | Py_TPFLAGS_DISALLOW_INSTANTIATION,
    .slots = fired_keywords_slots,
};


/* Fields of the pool's Python objects (a CallQueue, a ListenerPool, a batch listener) read
 * and written on their __slots__, as CPython's own specialized attribute access does: the offset of a
 * slot is found once, from its member descriptor, and the field is then a load. */

/* The offset of ``type(obj).name`` when it is a writable object slot (a __slots__ entry's
 * member descriptor); -1 with TypeError set otherwise. */
static Py_ssize_t
writable_slot_offset(PyObject *obj, PyObject *name)
{
    PyObject *descriptor = PyObject_GetAttr((PyObject *)Py_TYPE(obj), name);
    if (descriptor == NULL) {
        return -1;
    }
    Py_ssize_t offset = -1;
    if (Py_IS_TYPE(descriptor, &PyMemberDescr_Type)) {
        PyMemberDef *member = ((PyMemberDescrObject *)descriptor)->d_member;
        if (member->type == Py_T_OBJECT_EX && !(member->flags & Py_READONLY) &&
            PyObject_TypeCheck(obj, ((PyDescrObject *)descriptor)->d_type)) {
            offset = member->offset;
        }
    }
    if (offset < 0) {
        PyErr_Format(PyExc_TypeError, "%R.%U must be a __slots__ field",
                     (PyObject *)Py_TYPE(obj), name);
    }
    Py_DECREF(descriptor);
    return offset;
}

#define SLOT_AT(obj, offset) ((PyObject **)((char *)(obj) + (offset)))

/* The slot of ``obj`` at ``offset``, a new reference; unset, what getattr says (an
 * AttributeError). */
static PyObject *
read_slot(PyObject *obj, Py_ssize_t offset, PyObject *name)
{
    PyObject *value = *SLOT_AT(obj, offset);
    return value == NULL ? PyObject_GetAttr(obj, name) : Py_NewRef(value);
}

/* SpawnedListener(hook, listener, pool): _enqueue.SpawnedListener's twin, the enqueue of a
 * spawned listener. Called by a fire (a vectorcall), it builds the kwargs dict once from the
 * fire's values and names, and, when the pool's CallQueue has room and the caller runs in
 * the queue's home thread, appends (time.monotonic(), hook, listener, kwargs) to its deque
 * and wakes an idle worker; otherwise it hands the call to pool.submit. The CallQueue's
 * fields are read on every call, as the pure twin reads them: the pool changes them. */

typedef struct {
    PyObject_HEAD
    vectorcallfunc vectorcall;
    PyObject *listener;      /* what the pool calls */
    PyObject *pool;          /* the ListenerPool that runs it */
    PyObject *hook;          /* records its failures */
    PyObject *queue;         /* pool._queue, a CallQueue */
    EnqueueState *names;     /* of the module that made the type */
    PyObject *fitting_names; /* the last keyword names found to fit a FiredKeywords */
    /* Where the queue's calls, room, home and idle fields are, if they are __slots__ of its
     * class (-1: read by name). */
    Py_ssize_t field_offsets[4];
} SpawnedListener;

enum { QUEUE_CALLS, QUEUE_ROOM, QUEUE_HOME, QUEUE_IDLE };

/* A field of the listener's queue, a new reference; NULL with an exception set. */
static PyObject *
spawned_queue_field(SpawnedListener *self, int field)
{
    EnqueueState *names = self->names;
    PyObject *name = field == QUEUE_CALLS  ? names->str_calls
                     : field == QUEUE_ROOM ? names->str_room
                     : field == QUEUE_HOME ? names->str_home
                                           : names->str_idle;
    Py_ssize_t offset = self->field_offsets[field];
    return offset < 0 ? PyObject_GetAttr(self->queue, name) : read_slot(self->queue, offset, name);
}

/* time.monotonic(), read as that function reads it. */
#if PY_VERSION_HEX >= 0x030D0000
static double
monotonic_clock(void)
{
    PyTime_t now;
    return PyTime_Monotonic(&now) < 0 ? -1.0 : PyTime_AsSecondsDouble(now);
}
#else
static double
monotonic_clock(void)
{
    return _PyTime_AsSecondsDouble(_PyTime_GetMonotonicClock());
}
#endif

/* ``len(calls) < queue.room and _thread.get_ident() == queue.home``: 1, 0, or -1 with an
 * exception set. Plain ints (as the pool sets them) are compared in C. */
static int
spawned_may_queue(SpawnedListener *self, PyObject *calls)
{
    Py_ssize_t depth = PyObject_Size(calls);
    if (depth < 0) {
        return -1;
    }
    PyObject *room = spawned_queue_field(self, QUEUE_ROOM);
    if (room == NULL) {
        return -1;
    }
    int has_room = -1;
    if (PyLong_CheckExact(room)) {
        Py_ssize_t limit = PyLong_AsSsize_t(room);
        if (limit != -1 || !PyErr_Occurred()) {
            has_room = depth < limit;
        }
        else if (PyErr_ExceptionMatches(PyExc_OverflowError)) {
            PyErr_Clear(); /* beyond any length: room if it is positive */
            has_room = Py_SIZE(room) > 0;
        }
    }
    else {
        PyObject *depth_object = PyLong_FromSsize_t(depth);
        if (depth_object != NULL) {
            has_room = PyObject_RichCompareBool(depth_object, room, Py_LT);
            Py_DECREF(depth_object);
        }
    }
    Py_DECREF(room);
    if (has_room <= 0) {
        return has_room;
    }
    PyObject *home = spawned_queue_field(self, QUEUE_HOME);
    if (home == NULL) {
        return -1;
    }
    unsigned long ident = PyThread_get_thread_ident();
    int at_home;
    if (PyLong_CheckExact(home)) {
        unsigned long home_ident = PyLong_AsUnsignedLong(home);
        if (home_ident == (unsigned long)-1 && PyErr_Occurred()) {
            PyErr_Clear(); /* negative or too large: no thread's ident */
            at_home = 0;
        }
        else {
            at_home = home_ident == ident;
        }
    }
    else { /* None before the pool has a home */
        PyObject *ident_object = PyLong_FromUnsignedLong(ident);
        at_home = ident_object == NULL ? -1 : PyObject_RichCompareBool(ident_object, home, Py_EQ);
        Py_XDECREF(ident_object);
    }
    Py_DECREF(home);
    return at_home;
}

/* calls.append((time.monotonic(), hook, listener, kwargs)), then queue.wake_one() if a
 * worker is idle. 0, or -1 with an exception set. */
static int
spawned_queue_call(SpawnedListener *self, PyObject *calls, PyObject *kwargs)
{
    EnqueueState *names = self->names;
    double now = monotonic_clock();
    if (now == -1.0 && PyErr_Occurred()) {
        return -1;
    }
    PyObject *fired_at = PyFloat_FromDouble(now);
    if (fired_at == NULL) {
        return -1;
    }
    PyObject *call = PyTuple_New(4);
    if (call == NULL) {
        Py_DECREF(fired_at);
        return -1;
    }
    PyTuple_SET_ITEM(call, 0, fired_at);
    PyTuple_SET_ITEM(call, 1, Py_NewRef(self->hook));
    PyTuple_SET_ITEM(call, 2, Py_NewRef(self->listener));
    PyTuple_SET_ITEM(call, 3, Py_NewRef(kwargs));
    PyObject *appended;
    if (Py_IS_TYPE(calls, (PyTypeObject *)names->deque_type)) {
        PyObject *append_args[2] = {calls, call};
        appended = PyObject_Vectorcall(names->deque_append, append_args, 2, NULL);
    }
    else {
        appended = PyObject_CallMethodOneArg(calls, names->str_append, call);
    }
    Py_DECREF(call);
    if (appended == NULL) {
        return -1;
    }
    Py_DECREF(appended);
    PyObject *idle = spawned_queue_field(self, QUEUE_IDLE);
    if (idle == NULL) {
        return -1;
    }
    int any_idle = PyList_CheckExact(idle) ? PyList_GET_SIZE(idle) > 0 : PyObject_IsTrue(idle);
    Py_DECREF(idle);
    if (any_idle <= 0) {
        return any_idle;
    }
    PyObject *woken = PyObject_CallMethodNoArgs(self->queue, names->str_wake_one);
    if (woken == NULL) {
        return -1;
    }
    Py_DECREF(woken);
    return 0;
}

/* What a queued call keeps of a fire's ``values`` named ``names`` (NULL: none): a
 * FiredKeywords, tracked by the garbage collector as a dict would be (a value may refer back
 * to it), or a dict when the names do not fit one (see names_fit_fired_keywords). */
static PyObject *
spawned_keywords(SpawnedListener *self, PyObject *const *values, PyObject *names)
{
    if (names != NULL && names != self->fitting_names) {
        if (!names_fit_fired_keywords(names)) {
            return keywords_dict(values, names);
        }
        Py_XSETREF(self->fitting_names, Py_NewRef(names));
    }
    PyObject *keywords = fired_keywords_of_call(self->names->fired_keywords_type, values, names);
    if (keywords != NULL) {
        PyObject_GC_Track(keywords);
    }
    return keywords;
}

/* _enqueue.SpawnedListener.__call__'s twin. */
static PyObject *
spawned_vectorcall(PyObject *callable, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    SpawnedListener *self = (SpawnedListener *)callable;
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    if (nargs != 0) {
        PyErr_Format(PyExc_TypeError,
                     "SpawnedListener.__call__() takes 1 positional argument but %zd were given",
                     nargs + 1);
        return NULL;
    }
    /* New per call: the queued call keeps the names and values as they are now. */
    PyObject *kwargs = spawned_keywords(self, args, kwnames);
    if (kwargs == NULL) {
        return NULL;
    }
    PyObject *calls = spawned_queue_field(self, QUEUE_CALLS);
    if (calls == NULL) {
        Py_DECREF(kwargs);
        return NULL;
    }
    int may_queue = spawned_may_queue(self, calls);
    int failed;
    if (may_queue > 0) {
        failed = spawned_queue_call(self, calls, kwargs);
    }
    else if (may_queue == 0) {
        PyObject *submit_args[4] = {self->pool, self->hook, self->listener, kwargs};
        PyObject *submitted = PyObject_VectorcallMethod(self->names->str_submit, submit_args,
                                                        4, NULL);
        Py_XDECREF(submitted);
        failed = submitted == NULL;
    }
    else {
        failed = 1;
    }
    Py_DECREF(calls);
    Py_DECREF(kwargs);
    if (failed) {
        return NULL;
    }
    Py_RETURN_NONE;
}

/* _enqueue.SpawnedListener.__init__'s twin. */
static PyObject *
spawned_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    static char *keywords[] = {"hook", "listener", "pool", NULL};
    PyObject *hook, *listener, *pool;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OOO:SpawnedListener", keywords, &hook,
                                     &listener, &pool)) {
        return NULL;
    }
    /* The type is final: it is the module's own, whose state is right there. */
    ModuleState *state = (ModuleState *)PyType_GetModuleState(type);
    if (state == NULL) {
        return NULL;
    }
    PyObject *queue = PyObject_GetAttr(pool, state->enqueue.str_queue);
    if (queue == NULL) {
        return NULL;
    }
    SpawnedListener *self = (SpawnedListener *)type->tp_alloc(type, 0);
    if (self == NULL) {
        Py_DECREF(queue);
        return NULL;
    }
    self->vectorcall = spawned_vectorcall;
    self->names = &state->enqueue;
    PyObject *field_names[4] = {state->enqueue.str_calls, state->enqueue.str_room,
                                state->enqueue.str_home, state->enqueue.str_idle};
    for (int field = 0; field < 4; field++) {
        self->field_offsets[field] = writable_slot_offset(queue, field_names[field]);
        if (self->field_offsets[field] < 0) {
            PyErr_Clear(); /* not a __slots__ field: read by name */
        }
    }
    self->listener = Py_NewRef(listener);
    self->pool = Py_NewRef(pool);
    self->hook = Py_NewRef(hook);
    self->queue = queue;
    return (PyObject *)self;
}

static int
spawned_traverse(SpawnedListener *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(self->listener);
    Py_VISIT(self->pool);
    Py_VISIT(self->hook);
    Py_VISIT(self->queue);
    Py_VISIT(self->fitting_names);
    return 0;
}

static int
spawned_clear(SpawnedListener *self)
{
    Py_CLEAR(self->listener);
    Py_CLEAR(self->pool);
    Py_CLEAR(self->hook);
    Py_CLEAR(self->queue);
    Py_CLEAR(self->fitting_names);
    return 0;
}

static void
spawned_dealloc(SpawnedListener *self)
{
    PyTypeObject *type = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    spawned_clear(self);
    type->tp_free((PyObject *)self);
    Py_DECREF(type);
}

/* _enqueue.SpawnedListener.__repr__'s twin, naming the listener as messages do. */
static PyObject *
spawned_repr(SpawnedListener *self)
{
    if (self->listener == NULL) {
        return PyUnicode_FromString("<spawned listener, cleared>");
    }
    PyObject *errors = PyImport_ImportModule("locust_events._errors");
    if (errors == NULL) {
        return NULL;
    }
    PyObject *described = PyObject_CallMethod(errors, "describe_listener", "O", self->listener);
    Py_DECREF(errors);
    if (described == NULL) {
        return NULL;
    }
    PyObject *repr = PyUnicode_FromFormat("<spawned %U in %R>", described, self->pool);
    Py_DECREF(described);
    return repr;
}

static PyMemberDef spawned_members[] = {
    {"listener", Py_T_OBJECT_EX, offsetof(SpawnedListener, listener), Py_READONLY,
     PyDoc_STR("The function the pool calls.")},
    {"pool", Py_T_OBJECT_EX, offsetof(SpawnedListener, pool), Py_READONLY,
     PyDoc_STR("The pool that runs it.")},
    {"hook", Py_T_OBJECT_EX, offsetof(SpawnedListener, hook), Py_READONLY,
     PyDoc_STR("The hook it is registered on, whose error policy records its failures.")},
    {"_queue", Py_T_OBJECT_EX, offsetof(SpawnedListener, queue), Py_READONLY,
     PyDoc_STR("The pool's CallQueue.")},
    {"__vectorcalloffset__", Py_T_PYSSIZET, offsetof(SpawnedListener, vectorcall), Py_READONLY},
    {NULL, 0, 0, 0, NULL},
};

static PyType_Slot spawned_listener_slots[] = {
    {Py_tp_doc, (void *)PyDoc_STR("Stands in a hook's listeners for a spawned one: calling it "
                                  "queues the real call.")},
    {Py_tp_call, PyVectorcall_Call},
    {Py_tp_new, spawned_new},
    {Py_tp_traverse, spawned_traverse},
    {Py_tp_clear, spawned_clear},
    {Py_tp_dealloc, spawned_dealloc},
    {Py_tp_repr, spawned_repr},
    {Py_tp_members, spawned_members}, /* __vectorcalloffset__ sets tp_vectorcall_offset */
    {0, NULL},
};

static PyType_Spec spawned_listener_spec = {
    .name = "locust_events._speedups.SpawnedListener",
    .basicsize = sizeof(SpawnedListener),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL,
    .slots = spawned_listener_slots,
};

/* BatchAccept(batch_listener, queue, pool, max_size, hand_over, start_timer, take_slowly):
 * _accumulator.batch_accept's twin (the docstring there says what it does). What a hook calls
 * for each fire of a batch listener: the fire's keyword arguments, built into a new dict from
 * the vectorcall, join the batch while the pool's CallQueue has room and the caller runs in
 * its home thread; else take_slowly(kwargs) decides.
 *
 * The fields it reads and writes (queue.calls, queue.room, queue.home, pool._held_events,
 * batch_listener._batch) are __slots__ of final Python classes: their member descriptors'
 * offsets are looked up once, at creation, and a fire reads and writes the objects' slots
 * there, as the descriptors would, without a lookup by name. A fire that finds a value the
 * fast path does not expect (a slot not set, a room or count that is not an int, calls not a
 * deque, a batch not a list) takes the path by name, which behaves as the pure twin.
 *
 * The event that joins the batch is a FiredKeywords (the pure twin's dict, made read-only only
 * at delivery there); a fire handed to take_slowly, or whose keyword names are not distinct
 * strs, makes the dict the pure twin makes. */

typedef struct {
    PyObject_HEAD
    vectorcallfunc vectorcall;
    PyObject *batch_listener; /* __batch_listener__: the _batching.BatchListener */
    PyObject *listener;       /* __wrapped__: the function that gets the batches */
    PyObject *queue;          /* the pool's CallQueue */
    PyObject *pool;           /* the ListenerPool */
    Py_ssize_t max_size;
    PyObject *hand_over;      /* batch_listener.hand_over */
    PyObject *start_timer;    /* batch_listener._start_timer */
    PyObject *take_slowly;    /* batch_listener._take_slowly */
    PyObject *str_calls, *str_room, *str_home, *str_batch, *str_held_events; /* interned */
    /* Where the slots live: queue.calls, queue.room, queue.home, pool._held_events and
     * batch_listener._batch, as byte offsets into those objects. */
    Py_ssize_t calls_offset, room_offset, home_offset, held_events_offset, batch_offset;
    PyObject *deque_type;     /* collections.deque: its length is Py_SIZE */
    /* The last queue.home seen (an int) and whether it was this thread's ident then. */
    PyObject *seen_home;
    unsigned long seen_home_ident;
    /* The keyword names of the last fire and a dict of them (values None) that a fire with
     * the same names copies, as SpawnedListener does. */
    PyObject *seen_names;
    PyObject *kwargs_template;
    PyTypeObject *event_type; /* FiredKeywords: what a fire whose names fit it makes */
    PyObject *event_names;    /* the last keyword names found to fit a FiredKeywords */
} BatchAccept;

/* A new dict of the keyword arguments ``values`` named ``names`` (NULL: none). A call site
 * passes the same names tuple on each call, so the dict of the last names (``*template``,
 * values None, made when ``*seen_names`` changes) is copied (its table in one go) and its
 * values replaced, which costs less than inserting the keys one by one into a new dict. */
static PyObject *
kwargs_from_call_site(PyObject **seen_names, PyObject **template_slot, PyObject *const *values,
                      PyObject *names)
{
    if (names == NULL) {
        return PyDict_New();
    }
    Py_ssize_t count = PyTuple_GET_SIZE(names);
    if (names != *seen_names) {
        PyObject *template = PyDict_New();
        if (template == NULL) {
            return NULL;
        }
        for (Py_ssize_t i = 0; i < count; i++) {
            if (PyDict_SetItem(template, PyTuple_GET_ITEM(names, i), Py_None) < 0) {
                Py_DECREF(template);
                return NULL;
            }
        }
        Py_XSETREF(*template_slot, template);
        Py_XSETREF(*seen_names, Py_NewRef(names));
    }
    /* Our own reference: the copy allocates, and a finalizer that runs then may call this
     * listener with other names, which replaces the template. */
    PyObject *template = Py_NewRef(*template_slot);
    PyObject *kwargs = PyDict_Copy(template);
    Py_DECREF(template);
    if (kwargs == NULL) {
        return NULL;
    }
    for (Py_ssize_t i = 0; i < count; i++) {
        if (PyDict_SetItem(kwargs, PyTuple_GET_ITEM(names, i), values[i]) < 0) {
            Py_DECREF(kwargs);
            return NULL;
        }
    }
    return kwargs;
}


/* obj.name += delta, for an int attribute. 0 on success. */
static int
batch_add_to(PyObject *obj, PyObject *name, Py_ssize_t delta)
{
    PyObject *value = PyObject_GetAttr(obj, name);
    if (value == NULL) {
        return -1;
    }
    Py_ssize_t number = PyLong_AsSsize_t(value);
    Py_DECREF(value);
    if (number == -1 && PyErr_Occurred()) {
        return -1;
    }
    PyObject *sum = PyLong_FromSsize_t(number + delta);
    if (sum == NULL) {
        return -1;
    }
    int failed = PyObject_SetAttr(obj, name, sum);
    Py_DECREF(sum);
    return failed;
}

/* len(queue.calls) < queue.room and _thread.get_ident() == queue.home: 1, 0, or -1 on error. */
static int
batch_has_room(BatchAccept *self)
{
    PyObject *calls = PyObject_GetAttr(self->queue, self->str_calls);
    if (calls == NULL) {
        return -1;
    }
    Py_ssize_t depth = PyObject_Length(calls);
    Py_DECREF(calls);
    if (depth < 0) {
        return -1;
    }
    PyObject *room = PyObject_GetAttr(self->queue, self->str_room);
    if (room == NULL) {
        return -1;
    }
    Py_ssize_t room_left = PyLong_AsSsize_t(room);
    Py_DECREF(room);
    if (room_left == -1 && PyErr_Occurred()) {
        return -1;
    }
    if (depth >= room_left) {
        return 0;
    }
    PyObject *home = PyObject_GetAttr(self->queue, self->str_home);
    if (home == NULL) {
        return -1;
    }
    if (!PyLong_Check(home)) { /* None: no home yet */
        Py_DECREF(home);
        return 0;
    }
    unsigned long home_ident = PyLong_AsUnsignedLong(home);
    Py_DECREF(home);
    if (home_ident == (unsigned long)-1 && PyErr_Occurred()) {
        return -1;
    }
    return home_ident == PyThread_get_thread_ident();
}

/* The fast path of a fire, on the slots: 1 if the event joined the batch (``*result`` set to
 * what hand_over or start_timer returned, or a new None), 0 if the slots hold something else
 * than it expects (nothing changed: the path by name decides), -1 with an exception set.
 * Each step is the pure twin's, in its order. */
static int
batch_accept_on_slots(BatchAccept *self, PyObject *event, PyObject **result)
{
    PyObject *calls = *SLOT_AT(self->queue, self->calls_offset);
    PyObject *room = *SLOT_AT(self->queue, self->room_offset);
    PyObject *home = *SLOT_AT(self->queue, self->home_offset);
    PyObject *held_events = *SLOT_AT(self->pool, self->held_events_offset);
    PyObject *batch = *SLOT_AT(self->batch_listener, self->batch_offset);
    if (calls == NULL || !Py_IS_TYPE(calls, (PyTypeObject *)self->deque_type) || room == NULL ||
        !PyLong_CheckExact(room) || home == NULL || held_events == NULL ||
        !PyLong_CheckExact(held_events) || batch == NULL || !PyList_CheckExact(batch)) {
        return 0;
    }
    /* len(queue.calls) < queue.room */
    int overflow;
    long room_left = PyLong_AsLongAndOverflow(room, &overflow);
    if (overflow != 0 || (room_left == -1 && PyErr_Occurred())) {
        PyErr_Clear();
        return 0;
    }
    if (Py_SIZE(calls) >= room_left) {
        return 2; /* no room: take_slowly */
    }
    /* and _thread.get_ident() == queue.home */
    if (home != self->seen_home) {
        if (!PyLong_CheckExact(home)) { /* None: no home yet */
            return 2;
        }
        unsigned long home_ident = PyLong_AsUnsignedLong(home);
        if (home_ident == (unsigned long)-1 && PyErr_Occurred()) {
            PyErr_Clear(); /* negative or too large: no thread's ident */
            return 2;
        }
        Py_XSETREF(self->seen_home, Py_NewRef(home));
        self->seen_home_ident = home_ident;
    }
    if (self->seen_home_ident != PyThread_get_thread_ident()) {
        return 2;
    }
    long held = PyLong_AsLongAndOverflow(held_events, &overflow);
    if (overflow != 0 || (held == -1 && PyErr_Occurred()) || held == LONG_MAX) {
        PyErr_Clear();
        return 0;
    }
    /* batch.append(kwargs); queue.room -= 1; pool._held_events += 1 */
    PyObject *room_now = PyLong_FromLong(room_left - 1);
    if (room_now == NULL) {
        return -1;
    }
    PyObject *held_now = PyLong_FromLong(held + 1);
    if (held_now == NULL) {
        Py_DECREF(room_now);
        return -1;
    }
    Py_INCREF(batch); /* ours while hand_over or start_timer may replace the slot */
    if (PyList_Append(batch, event) < 0) {
        Py_DECREF(room_now);
        Py_DECREF(held_now);
        Py_DECREF(batch);
        return -1;
    }
    /* Until its batch is delivered only the batch refers to the new event, so no reference
     * cycle can pass through it: the garbage collector need not scan it meanwhile (a batch
     * of events waiting would otherwise cost every collection). deliver_events tracks it
     * again if the listener kept it. (A FiredKeywords is made untracked.) */
    PyObject_GC_UnTrack(event);
    /* Each slot's old value is released after the new one is in place, as a descriptor's
     * store does: a finalizer that runs then sees the new value. */
    PyObject **room_slot = SLOT_AT(self->queue, self->room_offset);
    PyObject *old_room = *room_slot;
    *room_slot = room_now;
    Py_XDECREF(old_room);
    PyObject **held_slot = SLOT_AT(self->pool, self->held_events_offset);
    PyObject *old_held = *held_slot;
    *held_slot = held_now;
    Py_XDECREF(old_held);
    Py_ssize_t size = PyList_GET_SIZE(batch);
    if (size >= self->max_size) {
        *result = PyObject_CallNoArgs(self->hand_over);
    }
    else if (size == 1) {
        *result = PyObject_CallOneArg(self->start_timer, batch);
    }
    else {
        *result = Py_NewRef(Py_None);
    }
    Py_DECREF(batch);
    return 1;
}

/* The event a fire makes: a FiredKeywords of its values and names, or a dict of them when the
 * names do not fit one (see names_fit_fired_keywords). */
static PyObject *
batch_accept_event_of_call(BatchAccept *self, PyObject *const *args, PyObject *names)
{
    if (names != NULL && names != self->event_names) {
        if (!names_fit_fired_keywords(names)) {
            return kwargs_from_call_site(&self->seen_names, &self->kwargs_template, args, names);
        }
        Py_XSETREF(self->event_names, Py_NewRef(names));
    }
    return fired_keywords_of_call(self->event_type, args, names);
}

/* _accumulator.batch_accept's accept(**kwargs), compiled. */
static PyObject *
batch_accept_vectorcall(PyObject *callable, PyObject *const *args, size_t nargsf,
                        PyObject *names)
{
    BatchAccept *self = (BatchAccept *)callable;
    if (PyVectorcall_NARGS(nargsf) != 0) {
        PyErr_SetString(PyExc_TypeError, "a batch listener's fire takes keyword arguments only");
        return NULL;
    }
    /* A new object per fire: the event as at fire time. Made before the slots are read: its
     * allocation may run a collection, and so finalizers that change them. */
    PyObject *event = batch_accept_event_of_call(self, args, names);
    if (event == NULL) {
        return NULL;
    }
    PyObject *result = NULL;
    PyObject *batch = NULL;
    int fast = batch_accept_on_slots(self, event, &result);
    if (fast < 0 || fast == 1) {
        goto done;
    }
    if (fast == 0) { /* the path by name */
        fast = batch_has_room(self);
        if (fast < 0) {
            goto done;
        }
    }
    else {
        fast = 0;
    }
    if (!fast) {
        /* take_slowly gets the dict the pure twin's accept gets. */
        if (is_fired_keywords(event)) {
            Py_SETREF(event, kwargs_from_call_site(&self->seen_names, &self->kwargs_template,
                                                   args, names));
            if (event == NULL) {
                goto done;
            }
        }
        result = PyObject_CallOneArg(self->take_slowly, event);
        goto done;
    }
    batch = PyObject_GetAttr(self->batch_listener, self->str_batch);
    if (batch == NULL) {
        goto done;
    }
    if (!PyList_Check(batch)) {
        PyErr_SetString(PyExc_TypeError, "BatchAccept: the batch must be a list");
        goto done;
    }
    if (PyList_Append(batch, event) < 0 || batch_add_to(self->queue, self->str_room, -1) < 0 ||
        batch_add_to(self->pool, self->str_held_events, 1) < 0) {
        goto done;
    }
    Py_ssize_t size = PyList_GET_SIZE(batch);
    if (size >= self->max_size) {
        result = PyObject_CallNoArgs(self->hand_over);
    }
    else if (size == 1) {
        result = PyObject_CallOneArg(self->start_timer, batch);
    }
    else {
        result = Py_NewRef(Py_None);
    }
done:
    Py_XDECREF(batch);
    Py_XDECREF(event);
    if (result != NULL && result != Py_None) {
        Py_SETREF(result, Py_NewRef(Py_None));
    }
    return result;
}

/* BatchAccept.deliver_events(listener, events): _accumulator.deliver_events's twin,
 * listener(a new list of a read-only mapping of each event, in order): a FiredKeywords is one
 * already and goes as it is, a dict goes in a mappingproxy. An event the fire left
 * untracked by the garbage collector (see batch_accept_on_slots) is tracked again once the
 * listener returned if anything besides ``events`` refers to it then: what the listener
 * kept may hold it in a reference cycle. An event nothing else refers to goes with
 * ``events`` untracked, which spares the collections that the listener's allocations
 * start. */
static PyObject *
batch_deliver_events(PyObject *unused, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_Format(PyExc_TypeError, "deliver_events() takes 2 positional arguments (%zd given)",
                     nargs);
        return NULL;
    }
    PyObject *listener = args[0];
    PyObject *events = args[1];
    PyObject *sequence = PySequence_Fast(events, "deliver_events() takes a list of events");
    if (sequence == NULL) {
        return NULL;
    }
    Py_ssize_t count = PySequence_Fast_GET_SIZE(sequence);
    PyObject *mappings = PyList_New(count);
    if (mappings == NULL) {
        Py_DECREF(sequence);
        return NULL;
    }
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *event = PySequence_Fast_GET_ITEM(sequence, i);
        PyObject *mapping = is_fired_keywords(event) ? Py_NewRef(event) : PyDictProxy_New(event);
        if (mapping == NULL) {
            Py_DECREF(mappings);
            Py_DECREF(sequence);
            return NULL;
        }
        PyList_SET_ITEM(mappings, i, mapping);
    }
    PyObject *result = PyObject_CallOneArg(listener, mappings);
    Py_DECREF(mappings);
    /* ``events`` holds one reference to each dict (and a copy made of it one more). */
    Py_ssize_t held_here = sequence == events ? 1 : 2;
    for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(sequence); i++) {
        PyObject *event = PySequence_Fast_GET_ITEM(sequence, i);
        if ((PyDict_CheckExact(event) || is_fired_keywords(event)) &&
            !PyObject_GC_IsTracked(event) && Py_REFCNT(event) > held_here) {
            PyObject_GC_Track(event);
        }
    }
    Py_DECREF(sequence);
    return result;
}

static PyMethodDef batch_accept_methods[] = {
    {"deliver_events", (PyCFunction)(void (*)(void))batch_deliver_events,
     METH_FASTCALL | METH_STATIC,
     PyDoc_STR("listener(a new list of a read-only mapping of each event, in order).")},
    {NULL, NULL, 0, NULL},
};

static PyObject *
batch_accept_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    PyObject *batch_listener, *queue, *pool, *max_size, *hand_over, *start_timer, *take_slowly;
    if ((kwargs != NULL && PyDict_GET_SIZE(kwargs) != 0) ||
        !PyArg_UnpackTuple(args, "BatchAccept", 7, 7, &batch_listener, &queue, &pool, &max_size,
                           &hand_over, &start_timer, &take_slowly)) {
        if (!PyErr_Occurred()) {
            PyErr_SetString(PyExc_TypeError, "BatchAccept() takes seven positional arguments");
        }
        return NULL;
    }
    Py_ssize_t size = PyLong_AsSsize_t(max_size);
    if (size == -1 && PyErr_Occurred()) {
        return NULL;
    }
    PyObject *listener = PyObject_GetAttrString(batch_listener, "listener");
    if (listener == NULL) {
        return NULL;
    }
    BatchAccept *self = (BatchAccept *)type->tp_alloc(type, 0);
    if (self == NULL) {
        Py_DECREF(listener);
        return NULL;
    }
    self->vectorcall = batch_accept_vectorcall;
    self->max_size = size;
    self->listener = listener;
    self->batch_listener = Py_NewRef(batch_listener);
    self->queue = Py_NewRef(queue);
    self->pool = Py_NewRef(pool);
    self->hand_over = Py_NewRef(hand_over);
    self->start_timer = Py_NewRef(start_timer);
    self->take_slowly = Py_NewRef(take_slowly);
    if ((self->str_calls = PyUnicode_InternFromString("calls")) == NULL ||
        (self->str_room = PyUnicode_InternFromString("room")) == NULL ||
        (self->str_home = PyUnicode_InternFromString("home")) == NULL ||
        (self->str_batch = PyUnicode_InternFromString("_batch")) == NULL ||
        (self->str_held_events = PyUnicode_InternFromString("_held_events")) == NULL ||
        (self->calls_offset = writable_slot_offset(queue, self->str_calls)) < 0 ||
        (self->room_offset = writable_slot_offset(queue, self->str_room)) < 0 ||
        (self->home_offset = writable_slot_offset(queue, self->str_home)) < 0 ||
        (self->held_events_offset = writable_slot_offset(pool, self->str_held_events)) < 0 ||
        (self->batch_offset = writable_slot_offset(batch_listener, self->str_batch)) < 0) {
        Py_DECREF(self);
        return NULL;
    }
    ModuleState *state = (ModuleState *)PyType_GetModuleState(type);
    if (state == NULL) {
        Py_DECREF(self);
        return NULL;
    }
    self->deque_type = Py_NewRef(state->enqueue.deque_type);
    PyObject *module = PyType_GetModule(type);
    PyObject *event_type = module == NULL ? NULL : PyObject_GetAttrString(module, "FiredKeywords");
    if (event_type == NULL) {
        Py_DECREF(self);
        return NULL;
    }
    if (!PyType_Check(event_type) ||
        ((PyTypeObject *)event_type)->tp_dealloc != (destructor)fired_keywords_dealloc) {
        Py_DECREF(event_type);
        Py_DECREF(self);
        PyErr_SetString(PyExc_TypeError, "BatchAccept: _speedups.FiredKeywords was replaced");
        return NULL;
    }
    self->event_type = (PyTypeObject *)event_type;
    return (PyObject *)self;
}

static int
batch_accept_traverse(BatchAccept *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(self->batch_listener);
    Py_VISIT(self->listener);
    Py_VISIT(self->queue);
    Py_VISIT(self->pool);
    Py_VISIT(self->hand_over);
    Py_VISIT(self->start_timer);
    Py_VISIT(self->take_slowly);
    Py_VISIT(self->deque_type);
    Py_VISIT(self->seen_home);
    Py_VISIT(self->seen_names);
    Py_VISIT(self->kwargs_template);
    Py_VISIT(self->event_type);
    Py_VISIT(self->event_names);
    return 0;
}

static int
batch_accept_clear(BatchAccept *self)
{
    Py_CLEAR(self->batch_listener);
    Py_CLEAR(self->listener);
    Py_CLEAR(self->queue);
    Py_CLEAR(self->pool);
    Py_CLEAR(self->hand_over);
    Py_CLEAR(self->start_timer);
    Py_CLEAR(self->take_slowly);
    Py_CLEAR(self->str_calls);
    Py_CLEAR(self->str_room);
    Py_CLEAR(self->str_home);
    Py_CLEAR(self->str_batch);
    Py_CLEAR(self->str_held_events);
    Py_CLEAR(self->deque_type);
    Py_CLEAR(self->seen_home);
    Py_CLEAR(self->seen_names);
    Py_CLEAR(self->kwargs_template);
    Py_CLEAR(self->event_type);
    Py_CLEAR(self->event_names);
    return 0;
}

static void
batch_accept_dealloc(BatchAccept *self)
{
    PyTypeObject *type = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    batch_accept_clear(self);
    type->tp_free((PyObject *)self);
    Py_DECREF(type);
}

static PyObject *
batch_accept_repr(BatchAccept *self)
{
    return PyUnicode_FromFormat("<fire into batch listener %R>", self->listener);
}

static PyMemberDef batch_accept_members[] = {
    {"__batch_listener__", Py_T_OBJECT_EX, offsetof(BatchAccept, batch_listener), Py_READONLY,
     PyDoc_STR("The batch listener whose batch a fire joins.")},
    {"__wrapped__", Py_T_OBJECT_EX, offsetof(BatchAccept, listener), Py_READONLY,
     PyDoc_STR("The function that gets the batches.")},
    {"__vectorcalloffset__", Py_T_PYSSIZET, offsetof(BatchAccept, vectorcall), Py_READONLY},
    {NULL, 0, 0, 0, NULL},
};

static PyType_Slot batch_accept_slots[] = {
    {Py_tp_doc, (void *)PyDoc_STR("Adds each fire's keyword arguments to a batch listener's batch.")},
    {Py_tp_call, PyVectorcall_Call},
    {Py_tp_new, batch_accept_new},
    {Py_tp_traverse, batch_accept_traverse},
    {Py_tp_clear, batch_accept_clear},
    {Py_tp_dealloc, batch_accept_dealloc},
    {Py_tp_repr, batch_accept_repr},
    {Py_tp_members, batch_accept_members},
    {Py_tp_methods, batch_accept_methods},
    {0, NULL},
};

static PyType_Spec batch_accept_spec = {
    .name = "locust_events._speedups.BatchAccept",
    .basicsize = sizeof(BatchAccept),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL,
    .slots = batch_accept_slots,
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

/* run_queued_calls(pool, worker, batch_type): _worker.run_queued_calls's twin, a pool
 * worker's round. It runs every queued call in turn, in the calling greenlet, with the same
 * steps in the same order, and returns True once the queue is empty, False when the pool
 * started afresh while a call ran. The pool's rare paths (late joins, calls waiting for
 * room, batches, failures, the last call before a join) are its Python methods; the hot
 * fields (the high water, the completed count, the queue's deque) are read and written on
 * their __slots__ directly, their offsets found once per pool class. */

/* The slot of ``obj`` at ``offset``, an int, as a C integer; -1 with an exception set if it
 * is unset or not an int. */
static Py_ssize_t
read_count_slot(PyObject *obj, Py_ssize_t offset, PyObject *name)
{
    PyObject *value = read_slot(obj, offset, name);
    if (value == NULL) {
        return -1;
    }
    Py_ssize_t count = PyLong_AsSsize_t(value);
    Py_DECREF(value);
    return count;
}

/* obj.<slot at offset> = count. 0, or -1 with an exception set. */
static int
write_count_slot(PyObject *obj, Py_ssize_t offset, Py_ssize_t count)
{
    PyObject *value = PyLong_FromSsize_t(count);
    if (value == NULL) {
        return -1;
    }
    Py_XSETREF(*SLOT_AT(obj, offset), value);
    return 0;
}

/* Find the offsets of the pool's and its queue's hot fields, unless known for their types. */
static int
worker_learn_offsets(WorkerState *names, PyObject *pool, PyObject *queue)
{
    if (Py_TYPE(pool) != names->pool_type) {
        Py_ssize_t high_water = writable_slot_offset(pool, names->str_high_water);
        Py_ssize_t completed = writable_slot_offset(pool, names->str_completed);
        Py_ssize_t join_deadline = writable_slot_offset(pool, names->str_join_deadline);
        if (high_water < 0 || completed < 0 || join_deadline < 0) {
            return -1;
        }
        names->join_deadline_offset = join_deadline;
        names->high_water_offset = high_water;
        names->completed_offset = completed;
        Py_XSETREF(names->pool_type, (PyTypeObject *)Py_NewRef(Py_TYPE(pool)));
    }
    if (Py_TYPE(queue) != names->queue_type) {
        Py_ssize_t calls = writable_slot_offset(queue, names->str_calls);
        if (calls < 0) {
            return -1;
        }
        names->calls_offset = calls;
        Py_XSETREF(names->queue_type, (PyTypeObject *)Py_NewRef(Py_TYPE(queue)));
    }
    return 0;
}

/* obj.name(), its result dropped. 0, or -1 with an exception set. */
static int
call_method_for_effect(PyObject *obj, PyObject *name, PyObject *arg)
{
    PyObject *result = arg == NULL ? PyObject_CallMethodNoArgs(obj, name)
                                   : PyObject_CallMethodOneArg(obj, name, arg);
    if (result == NULL) {
        return -1;
    }
    Py_DECREF(result);
    return 0;
}

/* ``if pool._join_deadline <= time.monotonic(): pool._let_late_joiners_return()``; a join
 * without a timeout (its deadline infinite) needs no look at the clock. */
static int
worker_let_late_joiners_return(WorkerState *names, PyObject *pool)
{
    PyObject *deadline_object = read_slot(pool, names->join_deadline_offset,
                                          names->str_join_deadline);
    if (deadline_object == NULL) {
        return -1;
    }
    double deadline = PyFloat_AsDouble(deadline_object);
    Py_DECREF(deadline_object);
    if (deadline == -1.0 && PyErr_Occurred()) {
        return -1;
    }
    if (deadline == Py_HUGE_VAL) {
        return 0;
    }
    double now = monotonic_clock();
    if (now == -1.0 && PyErr_Occurred()) {
        return -1;
    }
    return deadline <= now ? call_method_for_effect(pool, names->str_let_late_joiners_return,
                                                    NULL)
                           : 0;
}

/* ``listener(**kwargs)``, or with a thread pool ``thread_pool.spawn(listener, **kwargs)
 * .get()``: what the listener returned, or NULL with its exception set. The FiredKeywords of
 * a compiled enqueue go to the listener as the fire passed them. */
static PyObject *
worker_run_call(WorkerState *names, PyObject *listener, PyObject *kwargs, PyObject *thread_pool)
{
    int fired = Py_IS_TYPE(kwargs, names->fired_keywords_type);
    if (fired && thread_pool == Py_None) {
        FiredKeywords *fired_keywords = (FiredKeywords *)kwargs;
        return PyObject_Vectorcall(listener, fired_keywords->values, 0,
                                   Py_SIZE(fired_keywords) ? fired_keywords->names : NULL);
    }
    PyObject *keywords;
    if (fired) {
        keywords = fired_keywords_dict((FiredKeywords *)kwargs);
    }
    else if (PyDict_CheckExact(kwargs)) {
        keywords = Py_NewRef(kwargs);
    }
    else {
        Py_ssize_t length = PyObject_Length(kwargs);
        if (length == 0 && thread_pool == Py_None) {
            return PyObject_CallNoArgs(listener); /* a batch's call: its events are its own */
        }
        if (length < 0) {
            PyErr_Clear(); /* no len(): ``**`` asks only for keys() and [] */
        }
        /* any other mapping, as ``**`` takes it */
        keywords = PyDict_New();
        if (keywords != NULL && PyDict_Merge(keywords, kwargs, 1) < 0) {
            Py_CLEAR(keywords);
        }
    }
    if (keywords == NULL) {
        return NULL;
    }
    PyObject *result;
    if (thread_pool == Py_None) {
        result = PyObject_VectorcallDict(listener, NULL, 0, keywords);
    }
    else {
        PyObject *spawn = PyObject_GetAttr(thread_pool, names->str_spawn);
        PyObject *spawned = spawn == NULL ? NULL
                                          : PyObject_VectorcallDict(spawn, &listener, 1, keywords);
        Py_XDECREF(spawn);
        result = spawned == NULL ? NULL : PyObject_CallMethodNoArgs(spawned, names->str_get);
        Py_XDECREF(spawned);
    }
    Py_DECREF(keywords);
    return result;
}

/* How many events a call counts as: a batch's (``len(listener.events)``), else 1; -1 with
 * an exception set. */
static Py_ssize_t
worker_events_of(WorkerState *names, PyObject *listener, int is_batch)
{
    if (!is_batch) {
        return 1;
    }
    PyObject *events = PyObject_GetAttr(listener, names->str_events);
    if (events == NULL) {
        return -1;
    }
    Py_ssize_t count = PyObject_Size(events);
    Py_DECREF(events);
    return count;
}

/* One call, taken out of the queue and noted as the worker's: run it and account for it.
 * 1 when the pool is still the one the round started in, 0 when it started afresh (the
 * call is not ours to count), -1 with an exception set (a BaseException leaves the call
 * noted, for the pool's _worker_ended). */
static int
worker_run_and_count(WorkerState *names, PyObject *pool, PyObject *queue, PyObject *calls,
                     PyObject *call, PyObject *thread_pool, PyObject *batch_type)
{
    PyObject *listener = PyTuple_GET_ITEM(call, 2);
    int is_batch = Py_IS_TYPE(listener, (PyTypeObject *)batch_type);
    if (is_batch && call_method_for_effect(pool, names->str_batch_taken, listener) < 0) {
        return -1;
    }
    PyObject *returned = worker_run_call(names, listener, PyTuple_GET_ITEM(call, 3), thread_pool);
    if (returned == NULL) {
        if (!PyErr_ExceptionMatches(PyExc_Exception)) {
            return -1;
        }
        PyObject *error = take_raised_exception();
        if (*SLOT_AT(queue, names->calls_offset) != calls) {
            Py_DECREF(error);
            return 0;
        }
        PyObject *result = call_handling(error, pool, names->str_call_failed, call);
        Py_DECREF(error);
        if (result == NULL) {
            return -1;
        }
        Py_DECREF(result);
        return 1;
    }
    Py_DECREF(returned);
    if (*SLOT_AT(queue, names->calls_offset) != calls) {
        return 0;
    }
    Py_ssize_t events = worker_events_of(names, listener, is_batch);
    if (events < 0) {
        return -1;
    }
    Py_ssize_t completed = read_count_slot(pool, names->completed_offset, names->str_completed);
    if (completed == -1 && PyErr_Occurred()) {
        return -1;
    }
    return write_count_slot(pool, names->completed_offset, completed + events) < 0 ? -1 : 1;
}

/* The round's loop, over the pool's fields as the round found them. Py_True, Py_False, or
 * NULL with an exception set (borrowed: both are immortal enough for the caller's
 * Py_XNewRef). */
static PyObject *
worker_round(WorkerState *names, PyObject *pool, PyObject *worker, PyObject *batch_type,
             PyObject *queue, PyObject *calls, PyObject *current_calls, PyObject *in_line,
             PyObject *joiners, PyObject *thread_pool)
{
    for (;;) {
        if (PyList_GET_SIZE(joiners) > 0 && worker_let_late_joiners_return(names, pool) < 0) {
            return NULL;
        }
        Py_ssize_t depth = Py_SIZE(calls);
        if (depth == 0) {
            return Py_True;
        }
        Py_ssize_t high_water = read_count_slot(pool, names->high_water_offset,
                                                names->str_high_water);
        if (high_water == -1 && PyErr_Occurred()) {
            return NULL;
        }
        if (depth > high_water && write_count_slot(pool, names->high_water_offset, depth) < 0) {
            return NULL;
        }
        PyObject *call = PyObject_Vectorcall(names->deque_popleft, &calls, 1, NULL);
        if (call == NULL) {
            return NULL;
        }
        if (!PyTuple_CheckExact(call) || PyTuple_GET_SIZE(call) != 4) {
            PyErr_Format(PyExc_TypeError, "a pool's queued call must be a tuple "
                         "(fired_at, hook, listener, kwargs), not %R", call);
            Py_DECREF(call);
            return NULL;
        }
        int status = -1;
        if ((Py_SIZE(in_line) == 0 ||
             call_method_for_effect(pool, names->str_refill_soon, NULL) == 0) &&
            PyDict_SetItem(current_calls, worker, call) == 0) {
            status = worker_run_and_count(names, pool, queue, calls, call, thread_pool,
                                          batch_type);
        }
        Py_DECREF(call);
        if (status <= 0) {
            return status == 0 ? Py_False : NULL;
        }
        if (PyDict_DelItem(current_calls, worker) < 0) {
            return NULL;
        }
        if (PyList_GET_SIZE(joiners) > 0 && Py_SIZE(calls) == 0 &&
            call_method_for_effect(pool, names->str_finished, NULL) < 0) {
            return NULL;
        }
    }
}

/* _worker.run_queued_calls's twin. */
static PyObject *
run_queued_calls(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3) {
        PyErr_Format(PyExc_TypeError,
                     "run_queued_calls() takes a pool, a worker and the batch type (%zd given)",
                     nargs);
        return NULL;
    }
    WorkerState *names = &((ModuleState *)PyModule_GetState(module))->worker;
    PyObject *pool = args[0], *worker = args[1], *batch_type = args[2];
    if (!PyType_Check(batch_type)) {
        PyErr_Format(PyExc_TypeError, "run_queued_calls(): batch_type must be a type, not %R",
                     batch_type);
        return NULL;
    }
    PyObject *fields[6] = {NULL}; /* queue, calls, current_calls, in_line, joiners, thread_pool */
    PyObject *result = NULL;
    if ((fields[0] = PyObject_GetAttr(pool, names->str_queue)) == NULL ||
        (fields[1] = PyObject_GetAttr(fields[0], names->str_calls)) == NULL ||
        (fields[2] = PyObject_GetAttr(pool, names->str_current_calls)) == NULL ||
        (fields[3] = PyObject_GetAttr(pool, names->str_in_line)) == NULL ||
        (fields[4] = PyObject_GetAttr(pool, names->str_joiners)) == NULL ||
        (fields[5] = PyObject_GetAttr(pool, names->str_thread_pool)) == NULL ||
        worker_learn_offsets(names, pool, fields[0]) < 0) {
        goto done;
    }
    PyTypeObject *deque_type = (PyTypeObject *)names->deque_type;
    if (!Py_IS_TYPE(fields[1], deque_type) || !PyDict_CheckExact(fields[2]) ||
        !Py_IS_TYPE(fields[3], deque_type) || !PyList_CheckExact(fields[4])) {
        PyErr_Format(PyExc_TypeError,
                     "run_queued_calls(): %R's queue, current calls, line and joiners must be "
                     "a deque, a dict, a deque and a list", pool);
        goto done;
    }
    result = Py_XNewRef(worker_round(names, pool, worker, batch_type, fields[0], fields[1],
                                     fields[2], fields[3], fields[4], fields[5]));
done:
    for (int i = 0; i < 6; i++) {
        Py_XDECREF(fields[i]);
    }
    return result;
}

static PyMethodDef module_functions[] = {
    {"run_queued_calls", (PyCFunction)(void (*)(void))run_queued_calls, METH_FASTCALL,
     PyDoc_STR("run_queued_calls(pool, worker, batch_type, /)\n--\n\n"
               "Run every call queued in the pool, in the calling worker greenlet; True once "
               "the queue is empty, False if the pool started afresh meanwhile.")},
    {NULL, NULL, 0, NULL},
};

/* Module exec, traverse and clear of what SpawnedListener keeps. */
static int
enqueue_state_init(PyObject *module, EnqueueState *names)
{
    if ((names->str_calls = PyUnicode_InternFromString("calls")) == NULL ||
        (names->str_room = PyUnicode_InternFromString("room")) == NULL ||
        (names->str_home = PyUnicode_InternFromString("home")) == NULL ||
        (names->str_idle = PyUnicode_InternFromString("idle")) == NULL ||
        (names->str_wake_one = PyUnicode_InternFromString("wake_one")) == NULL ||
        (names->str_submit = PyUnicode_InternFromString("submit")) == NULL ||
        (names->str_append = PyUnicode_InternFromString("append")) == NULL ||
        (names->str_queue = PyUnicode_InternFromString("_queue")) == NULL) {
        return -1;
    }
    PyObject *collections = PyImport_ImportModule("collections");
    if (collections == NULL) {
        return -1;
    }
    names->deque_type = PyObject_GetAttrString(collections, "deque");
    Py_DECREF(collections);
    if (names->deque_type == NULL ||
        (names->deque_append = PyObject_GetAttr(names->deque_type, names->str_append)) == NULL) {
        return -1;
    }
    names->spawned_listener_type = add_type(module, &spawned_listener_spec);
    names->fired_keywords_type = add_type(module, &fired_keywords_spec);
    if (names->spawned_listener_type == NULL || names->fired_keywords_type == NULL) {
        return -1;
    }
    /* A read-only mapping, as isinstance(keywords, collections.abc.Mapping) should say. */
    PyObject *abc = PyImport_ImportModule("collections.abc");
    PyObject *mapping = abc == NULL ? NULL : PyObject_GetAttrString(abc, "Mapping");
    PyObject *registered = mapping == NULL ? NULL
                                           : PyObject_CallMethod(mapping, "register", "O",
                                                                 names->fired_keywords_type);
    Py_XDECREF(registered);
    Py_XDECREF(mapping);
    Py_XDECREF(abc);
    return registered == NULL ? -1 : 0;
}

static int
enqueue_state_traverse(EnqueueState *names, visitproc visit, void *arg)
{
    Py_VISIT(names->spawned_listener_type);
    Py_VISIT(names->fired_keywords_type);
    Py_VISIT(names->str_calls);
    Py_VISIT(names->str_room);
    Py_VISIT(names->str_home);
    Py_VISIT(names->str_idle);
    Py_VISIT(names->str_wake_one);
    Py_VISIT(names->str_submit);
    Py_VISIT(names->str_append);
    Py_VISIT(names->str_queue);
    Py_VISIT(names->deque_type);
    Py_VISIT(names->deque_append);
    return 0;
}

static void
enqueue_state_clear(EnqueueState *names)
{
    Py_CLEAR(names->spawned_listener_type);
    Py_CLEAR(names->fired_keywords_type);
    Py_CLEAR(names->str_calls);
    Py_CLEAR(names->str_room);
    Py_CLEAR(names->str_home);
    Py_CLEAR(names->str_idle);
    Py_CLEAR(names->str_wake_one);
    Py_CLEAR(names->str_submit);
    Py_CLEAR(names->str_append);
    Py_CLEAR(names->str_queue);
    Py_CLEAR(names->deque_type);
    Py_CLEAR(names->deque_append);
}

/* Module exec, traverse and clear of what run_queued_calls keeps. */
static int
worker_state_init(WorkerState *names)
{
#define INTERN_NAME(field, text)                                                               \
    if ((names->str_##field = PyUnicode_InternFromString(text)) == NULL) {                     \
        return -1;                                                                             \
    }
    WORKER_NAMES(INTERN_NAME)
#undef INTERN_NAME
    PyObject *collections = PyImport_ImportModule("collections");
    if (collections == NULL) {
        return -1;
    }
    names->deque_type = PyObject_GetAttrString(collections, "deque");
    Py_DECREF(collections);
    if (names->deque_type == NULL ||
        (names->deque_popleft = PyObject_GetAttr(names->deque_type, names->str_popleft)) == NULL) {
        return -1;
    }
    return 0;
}

static int
worker_state_traverse(WorkerState *names, visitproc visit, void *arg)
{
#define VISIT_NAME(field, text) Py_VISIT(names->str_##field);
    WORKER_NAMES(VISIT_NAME)
#undef VISIT_NAME
    Py_VISIT(names->deque_type);
    Py_VISIT(names->deque_popleft);
    Py_VISIT(names->pool_type);
    Py_VISIT(names->queue_type);
    return 0;
}

static void
worker_state_clear(WorkerState *names)
{
#define CLEAR_NAME(field, text) Py_CLEAR(names->str_##field);
    WORKER_NAMES(CLEAR_NAME)
#undef CLEAR_NAME
    Py_CLEAR(names->deque_type);
    Py_CLEAR(names->deque_popleft);
    Py_CLEAR(names->pool_type);
    Py_CLEAR(names->queue_type);
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
    /* Measurement(...) goes straight to measurement_vectorcall (a type slot that only 3.14's
     * specs can set), without an argument tuple. */
    state->measurement_type->tp_vectorcall = measurement_vectorcall;
    /* __enter__ and __exit__ go into the type's dict before any use (no spec slot makes a
     * descriptor of our own); PyType_Modified drops what the type caches. */
    state->special_method_type = (PyTypeObject *)PyType_FromModuleAndSpec(
        module, &special_method_spec, NULL);
    if (state->special_method_type == NULL) {
        return -1;
    }
    for (int exits = 0; exits <= 1; exits++) {
        SpecialMethod *method = PyObject_GC_New(SpecialMethod, state->special_method_type);
        if (method == NULL) {
            return -1;
        }
        method->exits = exits;
        PyObject_GC_Track(method);
        int failed = PyDict_SetItemString(state->measurement_type->tp_dict,
                                          exits ? "__exit__" : "__enter__", (PyObject *)method);
        Py_DECREF(method);
        if (failed < 0) {
            return -1;
        }
    }
    PyType_Modified(state->measurement_type);
    if (enqueue_state_init(module, &state->enqueue) < 0 || worker_state_init(&state->worker) < 0) {
        return -1;
    }
    state->worker.fired_keywords_type = state->enqueue.fired_keywords_type;
    PyObject *batch_accept_type = PyType_FromModuleAndSpec(module, &batch_accept_spec, NULL);
    if (batch_accept_type == NULL || PyModule_AddObject(module, "BatchAccept", batch_accept_type) < 0) {
        Py_XDECREF(batch_accept_type);
        return -1;
    }
    return 0;
}

static int
module_traverse(PyObject *module, visitproc visit, void *arg)
{
    ModuleState *state = (ModuleState *)PyModule_GetState(module);
    Py_VISIT(state->hookcore_type);
    Py_VISIT(state->filtered_listener_type);
    Py_VISIT(state->measurement_type);
    Py_VISIT(state->special_method_type);
    Py_VISIT(state->str_reverse);
    Py_VISIT(state->str_listener_failed);
    for (int i = 0; i < KEY_COUNT; i++) {
        Py_VISIT(state->keys[i]);
    }
    Py_VISIT(state->request_names);
    Py_VISIT(state->request_meta_values);
    Py_VISIT(state->request_meta_template);
    Py_VISIT(state->template_request_type);
    Py_VISIT(state->template_name);
    int visited = worker_state_traverse(&state->worker, visit, arg);
    return visited ? visited : enqueue_state_traverse(&state->enqueue, visit, arg);
}

static int
module_clear(PyObject *module)
{
    ModuleState *state = (ModuleState *)PyModule_GetState(module);
    Py_CLEAR(state->hookcore_type);
    Py_CLEAR(state->filtered_listener_type);
    Py_CLEAR(state->measurement_type);
    Py_CLEAR(state->special_method_type);
    Py_CLEAR(state->str_reverse);
    Py_CLEAR(state->str_listener_failed);
    for (int i = 0; i < KEY_COUNT; i++) {
        Py_CLEAR(state->keys[i]);
    }
    Py_CLEAR(state->request_names);
    Py_CLEAR(state->request_meta_values);
    Py_CLEAR(state->request_meta_template);
    enqueue_state_clear(&state->enqueue);
    worker_state_clear(&state->worker);
    Py_CLEAR(state->template_request_type);
    Py_CLEAR(state->template_name);
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
    .m_methods = module_functions,
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
