"""Tests for arignote.config: defaults, sources and their priority, validation, change_flags."""

import copy
import os

import pytest

import importlib

# `arignote.config` the attribute is the flags object (as `theano.config`); the module is in sys.modules
config_module = importlib.import_module("arignote.config")
from arignote.config import Config, config, parse_config


@pytest.fixture
def cfg(tmp_path):
    """A fresh config with no rc files and a fake HOME, so the real user's setup never leaks in."""
    return parse_config({"HOME": str(tmp_path)}, rc_paths=[])


def write_rc(path, text):
    path.write_text(text, encoding="utf-8")
    return str(path)


# --- defaults ----------------------------------------------------------------------------


def test_defaults(cfg, tmp_path):
    assert cfg.floatX == "float64"
    assert cfg.mode == "FAST_RUN"
    assert cfg.device == "cpu"
    assert cfg.init_gpu_device == ""
    assert cfg.optimizer == "fast_run"
    assert cfg.optimizer_including == cfg.optimizer_excluding == cfg.optimizer_requiring == ""
    assert cfg.on_opt_error == "warn"
    assert cfg.profile is False and cfg.profile_memory is False and cfg.profile_optimizer is False
    assert cfg.compute_test_value == "off"
    assert cfg.warn_float64 == "ignore"
    assert cfg.exception_verbosity == "low"
    assert cfg.allow_gc is True and cfg.print_active_device is True
    assert cfg.cast_policy == "custom"
    assert cfg.cxx == ""
    assert cfg.linker == "auto"
    assert cfg.deterministic == "default"
    assert cfg.compiledir == cfg.base_compiledir == os.path.join(str(tmp_path), ".cache", "arignote")
    assert cfg.warn.subtensor_merge_bug is False
    assert cfg.scan.allow_gc is False
    assert cfg.nvcc.flags == ""
    assert cfg.dnn.enabled == "auto"
    assert cfg.gpuarray.preallocate == 0.0 and isinstance(cfg.gpuarray.preallocate, float)


def test_compiledir_follows_xdg_cache_home(tmp_path):
    cfg = parse_config({"HOME": "/nonexistent", "XDG_CACHE_HOME": str(tmp_path)}, rc_paths=[])
    assert cfg.compiledir == os.path.join(str(tmp_path), "arignote")
    # A relative XDG_CACHE_HOME is invalid per the XDG spec and ignored.
    cfg = parse_config({"HOME": str(tmp_path), "XDG_CACHE_HOME": "rel"}, rc_paths=[])
    assert cfg.compiledir == os.path.join(str(tmp_path), ".cache", "arignote")


def test_singleton_and_alias():
    assert isinstance(config, Config)
    assert config_module.change_flags.__self__ is config
    assert "floatX" in config.flag_names()
    assert "warn.subtensor_merge_bug" in config.flag_names()


# --- attribute access and validation ------------------------------------------------------


def test_floatx_assignment_validation(cfg):
    cfg.floatX = "float32"
    assert cfg.floatX == "float32"
    with pytest.raises(ValueError) as info:
        cfg.floatX = "int8"
    msg = str(info.value)
    assert "floatX" in msg and "'int8'" in msg
    assert all(v in msg for v in ("float16", "float32", "float64"))
    assert cfg.floatX == "float32"  # a failed assignment changes nothing


def test_mode_is_case_sensitive(cfg):
    cfg.mode = "DebugMode"
    assert cfg.mode == "DebugMode"
    with pytest.raises(ValueError, match="FAST_COMPILE"):
        cfg.mode = "fast_run"


@pytest.mark.parametrize("device", ["cpu", "cuda", "cuda0", "cuda12", "gpu", "gpu3"])
def test_device_valid(cfg, device):
    cfg.device = device
    assert cfg.device == device


@pytest.mark.parametrize("device", ["", "cuda-1", "gpux", "CPU", "opencl0"])
def test_device_invalid(cfg, device):
    with pytest.raises(ValueError, match="cudaN"):
        cfg.device = device


def test_init_gpu_device_allows_empty(cfg):
    cfg.init_gpu_device = "cuda1"
    cfg.init_gpu_device = ""
    assert cfg.init_gpu_device == ""


def test_optimizer_none(cfg):
    cfg.optimizer = "None"
    assert cfg.optimizer == "None"
    cfg.optimizer = None  # Python None means the string choice 'None'
    assert cfg.optimizer == "None"
    for name in ("o1", "o4", "unsafe", "merge"):
        cfg.optimizer = name
    with pytest.raises(ValueError, match="o5"):
        cfg.optimizer = "o5"


def test_string_flags_reject_non_strings(cfg):
    cfg.optimizer_including = "fusion:inplace"
    assert cfg.optimizer_including == "fusion:inplace"
    with pytest.raises(ValueError, match="cxx"):
        cfg.cxx = 3


def test_compiledir_expands_user(cfg):
    cfg.compiledir = "~/somewhere"
    assert cfg.compiledir == os.path.join(os.path.expanduser("~"), "somewhere")


@pytest.mark.parametrize(
    "raw, expected",
    [(True, True), (False, False), (1, True), (0, False), ("true", True), ("false", False),
     ("True", True), ("False", False), ("1", True), ("0", False)],
)
def test_bool_parsing(cfg, raw, expected):
    cfg.profile = raw
    assert cfg.profile is expected


@pytest.mark.parametrize("raw", [2, "yes", "", None, 1.5])
def test_bool_parsing_rejects(cfg, raw):
    with pytest.raises(ValueError, match="profile"):
        cfg.profile = raw


def test_float_flag(cfg):
    cfg.gpuarray.preallocate = "0.5"
    assert cfg.gpuarray.preallocate == 0.5
    with pytest.raises(ValueError, match="gpuarray.preallocate"):
        cfg.gpuarray.preallocate = "lots"


def test_unknown_attribute_suggests(cfg):
    with pytest.raises(AttributeError, match="flaotX.*did you mean 'floatX'"):
        cfg.flaotX
    with pytest.raises(AttributeError) as info:
        cfg.zzzzzz
    assert "zzzzzz" in str(info.value) and "floatX" in str(info.value)  # lists valid names
    with pytest.raises(AttributeError, match="flaotX"):
        cfg.flaotX = "float32"
    assert not hasattr(cfg, "nonexistent_flag")


def test_sectioned_access_forms(cfg):
    cfg.warn.subtensor_merge_bug = True
    assert cfg.warn__subtensor_merge_bug is True
    cfg.warn__subtensor_merge_bug = "false"
    assert cfg.warn.subtensor_merge_bug is False
    assert getattr(cfg, "warn.subtensor_merge_bug") is False
    with pytest.raises(AttributeError, match="warn.nope"):
        cfg.warn.nope
    with pytest.raises(AttributeError, match="section"):
        cfg.warn = 1
    assert "subtensor_merge_bug" in dir(cfg.warn)
    assert "warn" in dir(cfg) and "floatX" in dir(cfg)


def test_describe_and_str(cfg):
    text = cfg.describe()
    assert str(cfg) == text
    for name in cfg.flag_names():
        assert name in text
    assert "floatX = 'float64'" in text
    assert "Default dtype of floating-point variables." in text


def test_deepcopy_is_independent(cfg):
    # __getattr__ must not recurse on the half-built instance that copy creates.
    cfg.floatX = "float32"
    clone = copy.deepcopy(cfg)
    clone.floatX = "float16"
    assert clone.floatX == "float16" and cfg.floatX == "float32"


# --- rc files and environment ------------------------------------------------------------


def test_rc_file_global_and_sections(tmp_path):
    rc = write_rc(
        tmp_path / "rc",
        "[global]\nfloatX = float32\ndevice = cuda0\nprofile = True\n\n"
        "[warn]\nsubtensor_merge_bug = True\n\n[nvcc]\nflags = -O3 --use_fast_math %x\n\n"
        "[gpuarray]\npreallocate = 0.8\n",
    )
    cfg = parse_config({}, rc_paths=[rc])
    assert cfg.floatX == "float32"
    assert cfg.device == "cuda0"
    assert cfg.profile is True
    assert cfg.warn.subtensor_merge_bug is True
    assert cfg.nvcc.flags == "-O3 --use_fast_math %x"  # no interpolation of '%'
    assert cfg.gpuarray.preallocate == 0.8


def test_rc_keys_case_insensitive_like_theano(tmp_path):
    rc = write_rc(tmp_path / "rc", "[global]\nfloatx = float32\n")
    assert parse_config({}, rc_paths=[rc]).floatX == "float32"


def test_rc_later_file_wins_and_missing_files_skipped(tmp_path):
    a = write_rc(tmp_path / "a", "[global]\nfloatX = float32\nmode = PY\n")
    b = write_rc(tmp_path / "b", "[global]\nfloatX = float16\n")
    cfg = parse_config({}, rc_paths=[a, str(tmp_path / "missing"), b])
    assert cfg.floatX == "float16" and cfg.mode == "PY"


def test_default_rc_files_under_home(tmp_path):
    write_rc(tmp_path / ".theanorc", "[global]\nfloatX = float32\nmode = PY\n")
    write_rc(tmp_path / ".arignoterc", "[global]\nmode = VM\n")
    cfg = parse_config({"HOME": str(tmp_path)})
    assert cfg.floatX == "float32" and cfg.mode == "VM"


def test_theanorc_and_arignoterc_env_replace_defaults(tmp_path):
    write_rc(tmp_path / ".theanorc", "[global]\nfloatX = float16\n")  # must be ignored
    a = write_rc(tmp_path / "a.ini", "[global]\nfloatX = float32\n")
    b = write_rc(tmp_path / "b.ini", "[global]\nmode = PY\n")
    env = {"HOME": str(tmp_path), "THEANORC": a + os.pathsep + str(tmp_path / "nope"), "ARIGNOTERC": b}
    cfg = parse_config(env)
    assert cfg.floatX == "float32" and cfg.mode == "PY"
    assert config_module.default_rc_paths({"HOME": str(tmp_path), "THEANORC": "~/x"}) == [
        os.path.join(str(tmp_path), "x")
    ]


def test_rc_errors_name_file_flag_and_choices(tmp_path):
    rc = write_rc(tmp_path / "bad", "[global]\nfloatX = int8\n")
    with pytest.raises(ValueError) as info:
        parse_config({}, rc_paths=[rc])
    msg = str(info.value)
    assert rc in msg and "floatX" in msg and "int8" in msg and "float32" in msg
    rc = write_rc(tmp_path / "bad2", "[warn]\nno_such_flag = 1\n")
    with pytest.raises(ValueError, match="warn.no_such_flag"):
        parse_config({}, rc_paths=[rc])
    rc = write_rc(tmp_path / "bad3", "floatX = float32\n")  # no section header
    with pytest.raises(ValueError, match="cannot parse"):
        parse_config({}, rc_paths=[rc])


def test_theano_flags(cfg):
    env = {"THEANO_FLAGS": " floatX = float32 ,, device=cuda1,warn.subtensor_merge_bug=True,"
                           "scan__allow_gc=1,optimizer_excluding=a:b ,"}
    cfg = parse_config(env, rc_paths=[])
    assert cfg.floatX == "float32"
    assert cfg.device == "cuda1"
    assert cfg.warn.subtensor_merge_bug is True
    assert cfg.scan.allow_gc is True
    assert cfg.optimizer_excluding == "a:b"


def test_value_may_contain_equals():
    cfg = parse_config({"THEANO_FLAGS": "nvcc.flags=-DX=1"}, rc_paths=[])
    assert cfg.nvcc.flags == "-DX=1"


def test_precedence_rc_theano_arignote(tmp_path):
    rc = write_rc(tmp_path / "rc", "[global]\nfloatX = float16\nmode = PY\ndevice = gpu\n")
    env = {"THEANO_FLAGS": "floatX=float32,mode=VM", "ARIGNOTE_FLAGS": "floatX=float64"}
    cfg = parse_config(env, rc_paths=[rc])
    assert cfg.floatX == "float64"  # ARIGNOTE_FLAGS beats THEANO_FLAGS
    assert cfg.mode == "VM"  # THEANO_FLAGS beats rc
    assert cfg.device == "gpu"  # rc beats default
    cfg.floatX = "float32"  # code beats everything
    assert cfg.floatX == "float32"


@pytest.mark.parametrize("var", ["THEANO_FLAGS", "ARIGNOTE_FLAGS"])
def test_env_invalid_value_message(var):
    with pytest.raises(ValueError) as info:
        parse_config({var: "floatX=int8"}, rc_paths=[])
    msg = str(info.value)
    assert var in msg and "floatX" in msg and "'int8'" in msg
    assert all(v in msg for v in ("float16", "float32", "float64"))


def test_env_unknown_flag_message():
    with pytest.raises(ValueError) as info:
        parse_config({"THEANO_FLAGS": "floatx=float32"}, rc_paths=[])  # env is case-sensitive
    msg = str(info.value)
    assert msg.startswith("THEANO_FLAGS") and "'floatx'" in msg and "'floatX'" in msg


def test_env_item_without_value():
    with pytest.raises(ValueError, match="ARIGNOTE_FLAGS.*flag=value.*profile"):
        parse_config({"ARIGNOTE_FLAGS": "profile"}, rc_paths=[])


def test_parse_config_returns_fresh_objects():
    a = parse_config({}, rc_paths=[])
    b = parse_config({}, rc_paths=[])
    a.floatX = "float32"
    assert b.floatX == "float64"
    assert a is not config and b is not config


# --- change_flags ------------------------------------------------------------------------


def test_change_flags_context_manager(cfg):
    with cfg.change_flags(floatX="float32", warn__subtensor_merge_bug=True) as c:
        assert c is cfg
        assert cfg.floatX == "float32" and cfg.warn.subtensor_merge_bug is True
    assert cfg.floatX == "float64" and cfg.warn.subtensor_merge_bug is False


def test_change_flags_restores_on_exception(cfg):
    with pytest.raises(RuntimeError):
        with cfg.change_flags(floatX="float32", profile=True):
            cfg.mode = "PY"  # not managed: stays changed
            raise RuntimeError("boom")
    assert cfg.floatX == "float64" and cfg.profile is False
    assert cfg.mode == "PY"


def test_change_flags_restores_value_set_before(cfg):
    cfg.floatX = "float16"
    with cfg.change_flags(floatX="float32"):
        cfg.floatX = "float64"  # assignments inside are undone too
    assert cfg.floatX == "float16"


def test_change_flags_decorator(cfg):
    calls = []

    @cfg.change_flags({"warn.subtensor_merge_bug": True}, floatX="float32")
    def f(x):
        """doc"""
        calls.append((cfg.floatX, cfg.warn.subtensor_merge_bug))
        if x:
            raise KeyError(x)
        return "ok"

    assert f.__name__ == "f" and f.__doc__ == "doc"
    assert f(0) == "ok"
    with pytest.raises(KeyError):
        f(1)
    assert calls == [("float32", True), ("float32", True)]
    assert cfg.floatX == "float64" and cfg.warn.subtensor_merge_bug is False


def test_change_flags_nested_and_recursive(cfg):
    outer = cfg.change_flags(floatX="float32")

    @outer
    def rec(n):
        return cfg.floatX if n == 0 else rec(n - 1)

    with outer:
        with cfg.change_flags(floatX="float16"):
            assert rec(3) == "float32"
            assert cfg.floatX == "float16"
        assert cfg.floatX == "float32"
    assert cfg.floatX == "float64"


def test_change_flags_validates_eagerly(cfg):
    with pytest.raises(ValueError, match="floatX.*float32"):
        cfg.change_flags(floatX="int8")
    with pytest.raises(AttributeError, match="did you mean 'floatX'"):
        cfg.change_flags(flotX="float32")
    assert cfg.floatX == "float64"


def test_module_change_flags_on_singleton():
    before = config.floatX
    other = "float16" if before != "float16" else "float32"
    with config_module.change_flags(floatX=other):
        assert config.floatX == other
    assert config.floatX == before


# --- registering new flags ---------------------------------------------------------------


def test_add_flags(cfg):
    cfg.add("lock_wait_seconds", 5, int, "Seconds to wait for the compile lock.")
    assert cfg.lock_wait_seconds == 5
    cfg.lock_wait_seconds = "7"
    assert cfg.lock_wait_seconds == 7
    with pytest.raises(ValueError, match="lock_wait_seconds.*integer"):
        cfg.lock_wait_seconds = "soon"

    cfg.add("scan.debug", "no", ["no", "yes"], "Debug scan.")
    assert cfg.scan.debug == "no"
    with cfg.change_flags(scan__debug="yes"):
        assert cfg.scan.debug == "yes"

    def even(value):
        """an even integer"""
        if int(value) % 2:
            raise ValueError("odd")
        return int(value)

    cfg.add("blocks", 2, even, "Block count.")
    with pytest.raises(ValueError, match="an even integer"):
        cfg.blocks = 3
    assert "compile_wait" in cfg.flag_names() and "Block count." in cfg.describe()


def test_add_rejects_bad_registrations(cfg):
    with pytest.raises(ValueError, match="already registered"):
        cfg.add("floatX", "float64", str, "dup")
    with pytest.raises(ValueError, match="clashes"):
        cfg.add("warn", False, bool, "clashes with the warn section")
    with pytest.raises(ValueError, match="clashes"):
        cfg.add("floatX.sub", False, bool, "under a plain flag")
    with pytest.raises(ValueError, match="clashes"):
        cfg.add("describe", False, bool, "clashes with a method")
    with pytest.raises(ValueError, match="invalid value"):
        cfg.add("bad_default", "x", ["a", "b"], "default must be valid")
    with pytest.raises(TypeError):
        cfg.add("letters", "a", "ab", "a string is not a choice list")
    assert "bad_default" not in cfg.flag_names()
