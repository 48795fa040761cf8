# What Cython compiles of _batching.py (as locust_events._batching_compiled, see setup.py):
# the batch listener as a final C type whose fields a fire's path reads without a lookup.
cimport cython

# Named apart from the .py's CallQueue, a Python import that Cython would refuse to rebind.
from locust_events._call_queue_compiled cimport CallQueue as CompiledCallQueue

cdef object _thread_ident
cdef object _monotonic
cdef object _perf_counter
cdef object batch_of
cdef object collect_after_delivery


@cython.final
cdef class BatchListener:
    cdef object __weakref__
    cdef readonly object listener
    cdef readonly object hook
    cdef readonly long long max_size
    cdef readonly double max_wait
    cdef public long long batches
    cdef public long long delivered
    cdef readonly CompiledCallQueue _queue
    cdef readonly list _batch
    cdef object _timer
    cdef public object profile
    cdef readonly double timeout
    cdef readonly object accept

    @cython.locals(queue=CompiledCallQueue)
    cpdef fired(self, tuple arguments)
    @cython.locals(batch=list, queue=CompiledCallQueue, size=Py_ssize_t, load="long long")
    cpdef add_event(self, event)
    cpdef hand_over(self)
    cpdef discard(self)
