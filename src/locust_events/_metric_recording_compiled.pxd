# What Cython compiles of _metric_recording.py (as locust_events._metric_recording_compiled,
# see setup.py): each metric and each label's fold as a C type, so that recording is a C call
# with one dict probe and in-place updates of typed fields, not Python attribute lookups.
cimport cython
from libc cimport math


cdef class Metric:
    cdef readonly object name
    cdef readonly object description
    cdef public dict _series


@cython.final
cdef class CounterSeries:
    cdef public object total


@cython.final
cdef class Counter(Metric):
    @cython.locals(series=CounterSeries)
    cpdef add(self, value=*, label=*)


@cython.final
cdef class SummarySeries:
    cdef public long long count
    cdef public object total
    cdef public object low
    cdef public object high


@cython.final
cdef class Summary(Metric):
    @cython.locals(series=SummarySeries)
    cpdef record(self, value, label=*)


@cython.final
cdef class HistogramSeries:
    cdef public long long count
    cdef public double total
    cdef public object low
    cdef public object high
    cdef public long long zeros
    cdef public long long first
    cdef public list counts
    @cython.locals(position=Py_ssize_t, counts=list, number=double)
    cpdef add(self, value, long long index)
    cpdef _add_outside(self, long long index)
    cpdef add_zero(self)


@cython.final
cdef class Histogram(Metric):
    cdef readonly object relative_error
    cdef readonly object lowest
    cdef readonly object highest
    cdef long long _lowest_index
    cdef long long _highest_index
    cdef double _inverse_log_gamma
    @cython.locals(series=HistogramSeries, position=double, index=cython.longlong)
    cpdef record(self, value, label=*)
