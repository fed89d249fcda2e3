"""Loads libhyperfuse_c (host/c_api/hyperfuse_c.h) with ctypes, on first use, so that the
stdlib-only parts of the package (seed_config, convert) work without it. ctypes releases the GIL
for the length of every foreign call, so a search's native threads and Python's run side by side."""
import ctypes
import os

_library = None


def _library_path():
    override = os.environ.get("HYPERFUSE_LIBRARY")
    if override:
        return override
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "libhyperfuse_c.so")


def library():
    """The loaded library with its functions' signatures."""
    global _library
    if _library is not None:
        return _library
    path = _library_path()
    if not os.path.exists(path):
        raise ImportError(f"{path}: hyperfuse's native library is missing; install the package with "
                          f"`pip install .` from a clone (docs/PYTHON.md), which builds it")
    lib = ctypes.CDLL(path)
    text = ctypes.c_char_p
    handle = ctypes.c_void_p
    signatures = {
        "hf_error_message": (text, []),
        "hf_version": (text, []),
        "hf_search_start": (ctypes.c_int, [text, ctypes.c_int, ctypes.POINTER(handle)]),
        "hf_search_wait": (ctypes.c_int, [handle, ctypes.c_int]),
        "hf_search_progress": (None, [handle, ctypes.POINTER(ctypes.c_ulonglong),
                                      ctypes.POINTER(ctypes.c_ulonglong)]),
        "hf_search_stop": (None, [handle]),
        "hf_search_status": (ctypes.c_int, [handle]),
        "hf_search_error": (text, [handle]),
        "hf_search_log": (text, [handle]),
        "hf_search_free": (None, [handle]),
        # The buy list comes back as a malloc'd string freed by hf_free, so a void pointer.
        "hf_predict": (ctypes.c_int, [text, ctypes.c_int, text, ctypes.POINTER(ctypes.c_void_p)]),
        "hf_export_onnx": (ctypes.c_int, [text, ctypes.c_int, text]),
        "hf_report": (ctypes.c_int, [text, text]),
        "hf_free": (None, [ctypes.c_void_p]),
    }
    for name, (result, arguments) in signatures.items():
        function = getattr(lib, name)
        function.restype = result
        function.argtypes = arguments
    _library = lib
    return lib


def encoded(path):
    return os.fsencode(os.fspath(path))


def decoded(raw):
    return raw.decode("utf-8", errors="replace") if raw else ""


def bundled_cli():
    """The `hyperfuse` executable installed beside the library (the same build)."""
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "bin", "hyperfuse")
