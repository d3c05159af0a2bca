"""``chainrule._specialise``: copies of a function with some locals fixed, generated from
its source.  The recording path and the backward walk run such copies, so the folding
must keep every case's meaning."""
import traceback

import pytest

from chainrule._specialise import specialise


def _kinds(x, mode, flag):
    out = []
    if mode == 1:
        out.append("one")
    elif mode == 2 and flag:
        out.append("two-flag")
    else:
        out.append("other")
    out.append("yes" if not flag else "no")
    out.append(flag and x)
    out.append(x + 1 if mode != 1 else x - 1)
    out.append("big" if mode > 2 else "small" if mode <= 1 else "mid")
    return out


@pytest.mark.parametrize("mode", [1, 2, 3])
@pytest.mark.parametrize("flag", [True, False])
def test_a_copy_gives_what_the_source_gives(mode, flag):
    fast = specialise(_kinds, "_kinds_fast", mode=mode, flag=flag)
    for x in (0, 5):
        assert fast(x, "ignored", "ignored") == _kinds(x, mode, flag)


def test_folded_branches_are_gone_from_the_copy():
    fast = specialise(_kinds, "_kinds_fast", mode=1, flag=False)
    consts = fast.__code__.co_consts
    assert "two-flag" not in consts and "other" not in consts and "no" not in consts
    assert "big" not in consts and "mid" not in consts
    assert fast.__name__ == "_kinds_fast" and "specialised" in fast.__doc__


def _boom(x, loud):
    if loud:
        raise ValueError("loud")
    return x


def test_a_copy_keeps_the_file_and_line_numbers():
    loud = specialise(_boom, "_boom_loud", loud=True)
    with pytest.raises(ValueError) as info:
        loud(1, None)
    frame = traceback.extract_tb(info.tb)[-1]
    assert frame.filename == __file__ and frame.line == 'raise ValueError("loud")'


def _add_twice(a, b):
    s = a + b
    return s + s


def _dispatch(a, b):
    if a > 0:
        return _add_twice(a, b)
    c = _add_twice(a, b)
    return -c


def test_inlined_calls_give_what_the_calls_give():
    inl = specialise(_dispatch, "_dispatch", inline={"_add_twice": (_add_twice, {})})
    assert inl.__code__.co_names.count("_add_twice") == 0       # no call left
    for a, b in [(1, 2), (-3, 1), (0, 0)]:
        assert inl(a, b) == _dispatch(a, b)


def _uses_other_names(x, y):
    return _add_twice(y, x)


def test_inlining_refuses_arguments_that_are_not_the_callers_names():
    with pytest.raises(ValueError, match="argument for 'a'"):
        specialise(_uses_other_names, "f", inline={"_add_twice": (_add_twice, {})})


def _early(a, b):
    if a:
        return 1
    return b


def _calls_early(a, b):
    r = _early(a, b)
    return r


def test_inlining_into_an_assignment_needs_one_final_return():
    with pytest.raises(ValueError, match="only return must be its last statement"):
        specialise(_calls_early, "f", inline={"_early": (_early, {})})


def _pair(a, b):
    kind = a.__class__
    big = [a] * 3
    return (kind, len(big), b)


def _caller(a, b):
    r = _pair(a, b)
    return r, big           # noqa: F821 (``big`` is the inlined template's local)


def test_clear_drops_the_template_locals_after_the_inlined_body():
    f = specialise(_caller, "f", inline={"_pair": (_pair, {}, {"clear": ("big",)})})
    assert f(2, 3) == ((int, 3, 3), None)


def _bound(args):
    a, b = args
    return a - b


def _binds_first(args):
    a, b = args[1], args[0]        # the caller's own binding (reversed, to tell them apart)
    return _bound(args)


def test_bound_names_are_not_assigned_again():
    f = specialise(_binds_first, "f", inline={"_bound": (_bound, {}, {"bound": ("a", "b")})})
    assert f((5, 2)) == -3 and _binds_first((5, 2)) == 3


def _total(values):
    total = sum(values)
    return total


def _sums(values):
    total = _total(values)
    return total * 2


def test_an_inlined_return_into_its_own_name_is_no_store():
    f = specialise(_sums, "f", inline={"_total": (_total, {})})
    import dis
    stores = [i for i in dis.get_instructions(f) if i.opname == "STORE_FAST"]
    assert len(stores) == 1 and f([1, 2, 3]) == 12      # only ``total = sum(values)``


def _dead(x, flag):
    cls = x.__class__
    if flag:
        return cls
    return x


def test_stores_nothing_reads_after_folding_are_dropped():
    f = specialise(_dead, "f", flag=False)
    assert "__class__" not in f.__code__.co_names and f(4, None) == 4
    assert specialise(_dead, "g", flag=True)(4, None) is int


def test_generated_code_is_kept_beside_the_bytecode_and_checked(tmp_path, monkeypatch):
    import importlib.util
    import sys
    from chainrule import _specialise as S
    src = tmp_path / "specialise_mod.py"
    src.write_text("def pick(x, fast):\n    if fast:\n        return x + 1\n    return x - 1\n")
    spec = importlib.util.spec_from_file_location("specialise_mod", src)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    assert specialise(mod.pick, "pick_fast", fast=True)(1, None) == 2
    kept = list((tmp_path / "__pycache__").glob("specialise_mod.pick_fast.*.specialised"))
    assert len(kept) == 1
    key, path = S._cache_key(mod.pick, "pick_fast", {}, {"fast": True})
    assert path == str(kept[0]) and S._load(key, path) is not None
    assert S._load(key + "changed", path) is None          # a different source: not used
    kept[0].write_bytes(b"not marshal data")                # a damaged entry is remade
    assert specialise(mod.pick, "pick_fast", fast=False)(1, None) == 0
    assert S._load(*S._cache_key(mod.pick, "pick_fast", {}, {"fast": False})) is not None
    # one entry per function and name: the older one was removed
    assert len(list((tmp_path / "__pycache__").glob("specialise_mod.pick_fast.*"))) == 1


class _Decl:
    def __init__(self, keep, table):
        self.keep, self.table = keep, table


def _declared(d, x):
    if d.keep and 0 in d.table[1]:
        return "kept", x
    if x and d.table[0] is not None:
        return "first", x
    return "neither", x


@pytest.mark.parametrize("keep,table", [(True, (None, (0,))), (True, ((1,), (1,))),
                                        (False, (None, (0,))), (False, ((2,), ()))])
def test_attributes_of_a_local_can_be_fixed_and_fold(keep, table):
    """``{"d.keep": ...}`` fixes an attribute load; subscripts of a constant tuple, ``in``
    and the truth of ``x and True`` fold with it."""
    f = specialise(_declared, "f", **{"d.keep": keep, "d.table": table})
    d = _Decl(keep, table)
    for x in (0, 3):
        assert f(None, x) == _declared(d, x)        # the copy never reads ``d``
    assert "keep" not in f.__code__.co_names and "table" not in f.__code__.co_names


def _inner(v, scale):
    return v * scale


def _middle(v, scale):
    return _inner(v, scale)


def _outer(v, scale=None):
    return _middle(v, scale)


def test_inlined_templates_inline_their_own_calls_too():
    f = specialise(_outer, "f", inline={"_middle": (_middle, {}),
                                        "_inner": (_inner, {"scale": 3})})
    assert f(2) == 6 and not {"_middle", "_inner"} & set(f.__code__.co_names)


def _chosen(flag, x):
    keep = (1,) if x is not None else ()
    versions = None
    if 0 in keep:
        versions = "kept"
    mode = "a" if flag else "b"
    for _ in range(2):
        if mode == "a":
            mode = "c"              # a loop may assign it: not propagated into the loop
    return versions, mode, keep


@pytest.mark.parametrize("flag", [True, False])
def test_locals_holding_known_constants_are_propagated_where_that_is_sound(flag):
    f = specialise(_chosen, "f")
    for x in (None, 5):
        assert f(flag, x) == _chosen(flag, x)
    consts = f.__code__.co_consts
    assert "kept" not in consts      # 0 in (1,) and 0 in () are both false: folded away


def _two_copies(x, kind):
    # the same local in two branches: one copy still reads ``keep``, the other does not
    if kind == 1:
        keep = (1,) if x else ()
        total = None
        if 1 in keep:
            total = x
        return total
    keep = (0,) if x else ()
    total = None
    total = x + 1
    return total, keep if kind == 3 else None


@pytest.mark.parametrize("kind", [1, 2, 3])
def test_a_store_no_later_statement_reads_is_dropped_though_another_branch_reads_it(kind):
    import ast
    from chainrule._specialise import transformed
    f = specialise(_two_copies, "f")
    src = ast.unparse(transformed(_two_copies, "f", {}, {}))
    # the second ``keep = ...`` is read only when ``kind == 3``: kept; ``total = None``
    # before ``total = x + 1`` goes (assigned again before any read); the first branch's
    # stores are read and stay
    assert src.count("keep = ") == 2 and src.count("total = None") == 1
    for x in (0, 4):
        assert f(x, kind) == _two_copies(x, kind)


def _unread(x, flag):
    cls = x.__class__           # read by the other branch only
    if flag:
        return cls
    mark = (1,) if x else ()    # read by nothing after it
    return x


def test_stores_read_only_by_an_earlier_branch_that_returned_are_dropped():
    import ast
    from chainrule._specialise import transformed
    src = ast.unparse(transformed(_unread, "f", {}, {"flag": False}))
    assert "mark" not in src and "__class__" not in src
    f = specialise(_unread, "f")
    assert f(3, True) is int and f(3, False) == 3


def _loop_and_cell(xs):
    out = []
    last = None
    for x in xs:
        out.append(last)
        last = x                # read by the next round: a loop keeps it
    seen = len(out)
    get = lambda: seen          # noqa: E731  (read by a nested function: kept)
    seen = seen + 0
    return out, get()


def test_stores_in_loops_and_of_names_nested_functions_read_are_kept():
    import ast
    from chainrule._specialise import transformed
    src = ast.unparse(transformed(_loop_and_cell, "f", {}, {}))
    assert "last = x" in src and "seen = len(out)" in src
    assert specialise(_loop_and_cell, "f")([1, 2]) == ([None, 1], 2)


def _guarded(x, fast, extra):
    if not (x > 0 and (fast or extra) and (extra or True)):
        return "slow"
    return "fast"


@pytest.mark.parametrize("extra", [True, False])
def test_constants_that_do_not_decide_a_test_go_inside_not_and_nested_operands_too(extra):
    import ast
    from chainrule._specialise import transformed
    src = ast.unparse(transformed(_guarded, "f", {}, {"fast": True, "extra": extra}))
    # ``fast or extra`` is true and ``extra or True`` is true: only ``x > 0`` is left
    assert "if not x > 0:" in src
    f = specialise(_guarded, "f", fast=True, extra=extra)
    for x in (-1, 1):
        assert f(x, None, None) == _guarded(x, True, extra)


_SEEN = None


def _sets_global(x):
    global _SEEN
    _SEEN = (x,)                # read by nothing after it here, but seen outside: kept
    return x


def test_stores_of_global_names_are_kept():
    specialise(_sets_global, "f")(7)
    assert _SEEN == (7,)
