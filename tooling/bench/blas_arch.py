"""Pins OpenBLAS to the CPU's real instruction set before torch, numpy or scikit-learn load it.

OpenBLAS picks its kernels from the CPUID model; virtual machines that report a generic "Intel Xeon
Processor" make it fall back to Prescott (SSE3) kernels, ~2.7x slower here, even though the CPU has
AVX2/AVX-512. Benchmarks compare against PyTorch and scikit-learn at their best, so every Python side
imports this module first. An OPENBLAS_CORETYPE already set is kept.
"""
import os


def _core_type():
    try:
        with open('/proc/cpuinfo', encoding='utf8') as f:
            flags = next((line.split(':', 1)[1].split() for line in f if line.startswith('flags')), [])
    except OSError:
        return None
    if 'avx512f' in flags:
        return 'SkylakeX'
    if 'avx2' in flags and 'fma' in flags:
        return 'Haswell'
    return None


if 'OPENBLAS_CORETYPE' not in os.environ and _core_type() is not None:
    os.environ['OPENBLAS_CORETYPE'] = _core_type()
