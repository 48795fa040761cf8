# What Cython compiles of _metric_recording.py (as locust_events._metric_recording_compiled,
# see setup.py): each metric as a C type, so that recording is a C call, not a Python one.
cimport cython
from libc cimport math


cdef class Metric:
    cdef readonly object name
    cdef readonly object description
    cdef public dict _series


@cython.final
cdef class Counter(Metric):
    cpdef add(self, value=*, label=*)


@cython.final
cdef class Summary(Metric):
    cpdef record(self, value, label=*)


@cython.final
cdef class HistogramSeries:
    cdef public long long count
    cdef public double total
    cdef public object low
    cdef public object high
    cdef public long long zeros
    cdef public dict buckets
    cpdef add(self, value, long long index)
    cpdef add_zero(self)


@cython.final
cdef class Histogram(Metric):
    cdef readonly object relative_error
    cdef readonly object lowest
    cdef readonly object highest
    cdef long long _lowest_index
    cdef long long _highest_index
    cdef double _inverse_log_gamma
    cpdef record(self, value, label=*)
