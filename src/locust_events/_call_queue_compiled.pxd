# What Cython compiles of _call_queue.py (as locust_events._call_queue_compiled, see setup.py):
# the module's classes as final C types, their fields in C where the type allows (counts as
# 64-bit integers, flags as C ints), and the methods the enqueue and the workers' round call
# on every call as C calls. _call_queue.py adopts this build at its end (adopt_compiled_twin).
# Fields are public (or readonly where the .py says Final): the pool, the batch listeners and
# the tests read them as they read the pure classes' attributes.
cimport cython

from cpython.time cimport monotonic as _monotonic

cdef extern from "Python.h":
    unsigned long _thread_ident "PyThread_get_thread_ident" ()
    void PyObject_GC_UnTrack(object)

cdef inline tuple untracked(tuple call):
    PyObject_GC_UnTrack(call)
    return call

# Module-level constants as C globals: no dict lookup on the hot paths.
cdef object call_with
cdef double NEVER

@cython.final
cdef class CallQueue:
    cdef readonly object start_workers
    cdef readonly object move_here
    cdef readonly object note_dropped
    cdef readonly object name
    cdef readonly long long maxsize
    cdef readonly object on_full
    cdef readonly object handover
    cdef public list batch_listeners
    cdef public bint closed
    cdef public object calls
    cdef readonly object append_call
    cdef readonly object pop_oldest_call
    cdef public long long load
    cdef public long long completed
    cdef public long long failed
    cdef public long long dropped
    cdef public long long timed_out
    cdef public long long discarded
    cdef public long long waited
    cdef public double time_waited
    cdef public bint timeouts_on
    cdef public bint profiled
    cdef readonly object note_waiting
    cdef readonly object note_timed_out
    cdef public long long high_water
    cdef public bint ready
    cdef public unsigned long home
    cdef public object hub
    cdef public list idle
    cdef public dict running
    cdef public object in_line
    cdef public bint refill_pending
    cdef public list joins
    cdef public double join_deadline
    cdef public object run_in_thread

    # The steps the enqueue and the workers' round take on every call (C calls here).
    cpdef bint has_room(self) noexcept
    cpdef bint takes_now(self) noexcept
    @cython.locals(call=tuple)
    cpdef put(self, source, run, tuple arguments)
    @cython.locals(load="long long", events="long long")
    cpdef queue_call(self, tuple call)
    cpdef queue_held(self, tuple call)
    cpdef bint holds_last(self, tuple call)
    cpdef wake_or_start_workers(self)
    cpdef wake_one(self)
    cpdef take_slowly(self, admit, item, source)
    @cython.locals(call=tuple, events="long long", slot=list)
    cpdef bint run_round(self, worker) except -1
    @cython.locals(call=tuple, load="long long", events="long long")
    cdef tuple _take(self, calls, list slot)
