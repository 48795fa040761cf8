# What Cython compiles of _spawned.py (as locust_events._spawned_compiled, see setup.py): the
# spawned listener as a final C type, whose fire reaches its queue's enqueue as a C call.
cimport cython

# Named apart from the .py's CallQueue, a Python import that Cython would refuse to rebind.
from locust_events._call_queue_compiled cimport CallQueue as CompiledCallQueue


@cython.final
cdef class SpawnedListener:
    cdef readonly object hook
    cdef readonly object listener
    cdef readonly object pool
    cdef readonly CompiledCallQueue queue
    cdef readonly object enqueue
    cdef readonly double timeout
    cdef public object profile
    cdef public long long sample_every
    cdef public long long countdown
    cdef public object timed_run

    cpdef fired(self, tuple arguments)
    cdef _fired_profiled(self, tuple arguments)
