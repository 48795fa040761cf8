# What Cython compiles of _batch_event.py (as locust_events._batch_event_compiled, see
# setup.py): an event of a batch as a final C type, made without a call of its class, and the
# two steps that keep a batch's delivery out of the cycle collector, through CPython's API.
cimport cython

cdef extern from "Python.h":
    bint PyObject_GC_IsTracked(object)
    void PyObject_GC_Track(object)
    void PyObject_GC_UnTrack(object)


@cython.final
@cython.collection_type("mapping")
cdef class BatchEvent:
    cdef tuple _arguments

    @cython.locals(names=tuple, position=Py_ssize_t)
    cdef Py_ssize_t _position(self, key) except -2
    @cython.locals(arguments=tuple, names=tuple, items=dict, position=Py_ssize_t)
    cpdef dict copy(self)


cdef inline void _leave_out_of_collector(object thing) noexcept:
    PyObject_GC_UnTrack(thing)


cdef inline void _give_to_collector(object thing) noexcept:
    if not PyObject_GC_IsTracked(thing):
        PyObject_GC_Track(thing)


@cython.locals(event=BatchEvent, arguments=tuple)
cpdef list batch_of(list events)

@cython.locals(event=BatchEvent)
cpdef collect_after_delivery(list batch)
