"""Fuzzing the two parsers that read what people write: YAML and formulas.

Bounded for every run by the ``ci`` profile in ``conftest.py``; for a long run::

    HYPOTHESIS_PROFILE=fuzz /work/venv/bin/python -m pytest tests/test_fuzz.py

* the YAML loader, on random text, random bytes and YAML-shaped token soup,
  returns a :class:`Document` of plain data or raises :class:`InvalidRuleset`
  with ``file:line`` — nothing else;
* the formula checker, on expressions from a grammar (legal and illegal
  constructs) and on random junk, compiles or raises :class:`ExpressionError`;
  a compiled formula, evaluated on random values by both evaluators, returns a
  value or raises one of the runtime errors the engine turns into
  ``invalid_case`` — and the two evaluators agree.
"""

from __future__ import annotations

import atexit
import copy
import datetime as _dt
import decimal
import shutil
import tempfile
import textwrap
import traceback
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, Phase, example, given, settings, strategies as st

from rammeaftale import Engine
from rammeaftale.errors import EngineError, InvalidRuleset, RulesetErrors
from rammeaftale.formula.expr import ExpressionError, check_size
from rammeaftale.formula.money import CONTEXT
from rammeaftale.model.lowering import RUNTIME_ERRORS, lower_question
from rammeaftale.model.steps import Formula, Meta
from rammeaftale.model.trace import Context
from rammeaftale.load.yamlload import Document, load_file, load_text

from .conftest import time_limit
from .helpers import formulas, reference_evaluate, write_ruleset

# No explain phase: it re-runs failing examples under sys.settrace, which makes a legal
# 1000 × 1000 case take minutes and trips the wall-clock limits below.
FUZZ = settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.filter_too_much],
                phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink])

# --- YAML -------------------------------------------------------------------------------

YAML_TOKENS = [
    "a", "b", "trin", "id", "formel", "1", "-1", "0x1F", "0o7", "1_000", "1.5", "1e5", ".inf", "-.inf", ".nan",
    "2021-01-01", "2021-02-30", "2021-01-01T10:00:00", "true", "no", "on", "null", "~", "'x'", '"y\\n"', "'",
    '"', ": ", ":", "- ", "-", "? ", "[", "]", "{", "}", ",", "&a ", "*a", "&b ", "*b", "<<: ", "!!python/object:os.system ",
    "!!python/object/apply:os.system ", "!!binary ", "!!set ", "!!omap ", "!foo ", "!<tag:x> ", "!!str ", "!!int ",
    "!!float ", "|", ">", "|-", "#", "---", "...", "%YAML 1.1\n", "%TAG ! tag:x,2000:\n", "\n", "\n  ", "\n    ",
    "  ", "\t", "\x00", "\ufeff", "\r\n", "æøå", "§", "\\", "@", "`", "%", "1:20", "=", "<<",
]
yaml_soup = st.lists(st.sampled_from(YAML_TOKENS), max_size=60).map("".join)
yaml_text = st.one_of(st.text(max_size=400), yaml_soup,
                      st.lists(st.sampled_from(["a:", " - ", "[", "{", "&x ", "*x ", "\n", "  "]), max_size=300)
                      .map("".join))

_PLAIN = (dict, list, str, int, Decimal, bool, type(None), _dt.date)


def _plain(value: Any) -> bool:
    if isinstance(value, dict):
        return all(isinstance(k, (str, int)) and not isinstance(k, bool) for k in value) \
            and all(_plain(v) for v in value.values())
    if isinstance(value, list):
        return all(_plain(v) for v in value)
    return isinstance(value, _PLAIN) and not isinstance(value, (float, _dt.datetime))


def _check_document(load) -> None:
    try:
        with time_limit(5):
            doc = load()
    except InvalidRuleset as exc:
        file, _, line = (exc.location or "").rpartition(":")
        assert file and line.isdigit() and int(line) >= 1, exc.location
        return
    assert isinstance(doc, Document)
    assert _plain(doc.data), doc.data
    assert all(isinstance(n, int) and n >= 1 for n in doc.lines.values())


@FUZZ
@given(yaml_text)
@example("a: &a [1]\nb: *a\n")
@example("- " * 2000 + "x")
@example("a: " + "[" * 5000)
@example("? - a\n: b")
@example("a: !!python/object/new:os.system [ls]")
def test_yaml_loader_returns_plain_data_or_invalid_ruleset(text):
    _check_document(lambda: load_text(text, "fuzz.yaml"))


_TMP = Path(tempfile.mkdtemp(prefix="fuzz-yaml-"))
atexit.register(shutil.rmtree, _TMP, True)


@FUZZ
@given(st.binary(max_size=600) | yaml_soup.map(lambda t: t.encode("utf-8", "surrogatepass")))
@example(b"\xff\xfe\x00a")
@example("titel: æble".encode("latin-1"))
@example(b"\xef\xbb\xbfa: 1")
def test_yaml_files_of_random_bytes_give_plain_data_or_invalid_ruleset(raw):
    path = _TMP / "fuzz.yaml"
    path.write_bytes(raw)
    _check_document(lambda: load_file(path, "fuzz.yaml"))


# --- formulas ------------------------------------------------------------------------------

NAMES = ["x", "y", "n", "s", "d", "m", "l", "b", "ingen"]
LANGUAGE = formulas()
FUNCTIONS = LANGUAGE.functions

names = st.sampled_from(NAMES + ["ukendt", "__import__", "__builtins__", "max", "fordel", "True", "None"])
numbers = st.one_of(
    st.integers(min_value=-10**6, max_value=10**6).map(str),
    st.decimals(allow_nan=False, allow_infinity=False, places=3, min_value=-10**6, max_value=10**6).map(str),
    st.sampled_from(["0", "0.0", "1e100", "1e101", "1e-100", "1e400", "9" * 40, "0x1F", "0b101", "0o17",
                     "1_000", "1e99999999999999999999", "1j", "100", "101", "-100"]))
strings = st.sampled_from(["'a'", "'ophoer'", "''", "'%s'", "'%0999999999d'", "'løbende måned + 1 måned'",
                           "'3 måneder'", "'x' * 3", "b'x'", "f'{x}'", "'A'"])
leaves = st.one_of(names, numbers, strings, st.sampled_from(["True", "False", "None", "...", "[]", "{}", "()"]))
BINARY = ["+", "-", "*", "/", "%", "**", "and", "or", "<", "<=", ">", ">=", "==", "!=", "in", "not in",
          "//", "<<", "^", "&", "|", "@", "is", "is not"]
UNARY = ["-", "+", "not ", "~"]
CALLABLE = sorted(FUNCTIONS) + ["ukendt", "eval", "__import__", "getattr", "print"]


def _compound(children):
    return st.one_of(
        st.tuples(children, st.sampled_from(BINARY), children).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(st.sampled_from(UNARY), children).map(lambda t: f"({t[0]}{t[1]})"),
        st.tuples(st.sampled_from(CALLABLE), st.lists(children, max_size=3)).map(
            lambda t: f"{t[0]}({', '.join(t[1])})"),
        st.tuples(children, children).map(lambda t: f"{t[0]}[{t[1]}]"),
        st.tuples(children, st.sampled_from(["real", "__class__", "items", "__globals__"])).map(
            lambda t: f"{t[0]}.{t[1]}"),
        st.lists(children, max_size=4).map(lambda xs: f"[{', '.join(xs)}]"),
        st.lists(st.tuples(strings, children), max_size=3).map(
            lambda kv: "{" + ", ".join(f"{k}: {v}" for k, v in kv) + "}"),
        st.tuples(children, children, children).map(lambda t: f"({t[0]} if {t[1]} else {t[2]})"),
        st.tuples(children, children).map(lambda t: f"[{t[0]} for q in {t[1]}]"),
        children.map(lambda c: f"(lambda: {c})()"),
        children.map(lambda c: f"(z := {c})"),
        children.map(lambda c: f"max(*{c})"),
        children.map(lambda c: f"afrund({c}, places=2)"),
        st.tuples(children, children).map(lambda t: f"{t[0]}[{t[1]}:]"),
    )


grammar = st.recursive(leaves, _compound, max_leaves=25)

# The legal part of the language only, so that most draws compile and get evaluated.
legal_leaves = st.one_of(st.sampled_from(NAMES), numbers.filter(lambda t: t not in ("1j", "1e400", "1e101")),
                         st.sampled_from(["'a'", "'A'", "'ophoer'", "'3 måneder'", "True", "False", "None", "[]"]))
LEGAL_BINARY = ["+", "-", "*", "/", "%", "**", "and", "or", "<", "<=", ">", ">=", "==", "!=", "in", "not in"]


def _legal(children):
    return st.one_of(
        st.tuples(children, st.sampled_from(LEGAL_BINARY), children).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(st.sampled_from(["-", "+", "not "]), children).map(lambda t: f"({t[0]}{t[1]})"),
        st.tuples(st.sampled_from(sorted(FUNCTIONS)), st.lists(children, min_size=1, max_size=3)).map(
            lambda t: f"{t[0]}({', '.join(t[1])})"),
        st.tuples(children, children).map(lambda t: f"{t[0]}[{t[1]}]"),
        st.lists(children, max_size=4).map(lambda xs: f"[{', '.join(xs)}]"),
        st.lists(st.tuples(st.sampled_from(["'a'", "'b'"]), children), max_size=3).map(
            lambda kv: "{" + ", ".join(f"{k}: {v}" for k, v in kv) + "}"),
        st.tuples(children, children, children).map(lambda t: f"({t[0]} if {t[1]} else {t[2]})"),
    )


legal = st.recursive(legal_leaves, _legal, max_leaves=12)
JUNK = list("()[]{}.,:;'\"\\#@$!?&|^~`=<>+-*/%_ \n\t\x00") + ["lambda", "import", "**", "__", "æ", "\u2028"]


@st.composite
def mangled(draw):
    """A grammar expression with junk spliced in."""
    text = draw(grammar)
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.sampled_from(JUNK)) + text[at:]
    return text


expressions = st.one_of(legal, legal, legal, grammar, mangled(), st.text(max_size=120))

values = st.fixed_dictionaries({
    "x": st.decimals(min_value=-10**12, max_value=10**12, places=2, allow_nan=False, allow_infinity=False),
    "y": st.sampled_from([Decimal(0), Decimal("0.05"), Decimal(-1), Decimal("1e12"), Decimal("1e-30")]),
    "n": st.integers(min_value=-10**6, max_value=10**6),
    "s": st.sampled_from(["", "a", "ophoer", "løbende måned", "%s", "x" * 500]),
    "d": st.dates(min_value=_dt.date(1, 1, 1), max_value=_dt.date(9999, 12, 31)),
    "m": st.dictionaries(st.sampled_from(["a", "b", "A", "2021"]),
                         st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False), max_size=3),
    "l": st.lists(st.integers(min_value=2019, max_value=2022), max_size=3),
    "b": st.booleans(),
    "ingen": st.none(),
})

META = Meta(id="fuzz", kind="formel", where="fuzz.yaml:1", kilde="ra2021:1")


def _run(source: str, expr: Any, names: dict[str, Any], reference: bool, trace: bool = False) -> tuple[str, Any]:
    """("ok", value) or ("fejl", error): walked by simpleeval, or as the engine runs it.

    The engine's way is the one runtime: the formula as a step of a question
    lowered to one function (:mod:`rammeaftale.model.lowering`), where every
    failure must come out as one of the engine's own errors.  The reference
    checks the result against the same size bounds the runtime applies.
    """
    try:
        with time_limit(2), decimal.localcontext(CONTEXT):
            if reference:
                value = reference_evaluate(source, dict(names), FUNCTIONS)
                check_size(value)
                return "ok", value
            program = lower_question([Formula(META, None, expr, None)], {}, META, "fuzz")
            ns = dict(names)
            program.run(ns, Context(trace), [] if trace else None, float("inf"))
            return "ok", ns[META.id]
    except RUNTIME_ERRORS as exc:
        assert reference, f"the runtime let {type(exc).__name__} through: {exc}"
        return "fejl", exc
    except EngineError as exc:
        assert not reference and exc.kind == "invalid_case", exc
        return "fejl", exc


@FUZZ
@given(expressions, values)
@example("x ** 1e100", {})
@example("(n ** 100) ** 100", {})
@example("s * n", {})
@example("s % x", {})
@example("plus_dage(d, x * 1e90)", {})
@example("fordel(x, m)", {})
@example("summer_aar(m, l)", {})
def test_formulas_compile_or_fail_cleanly_and_evaluate_or_fail_cleanly(source, names):
    with time_limit(2):
        try:
            expr = LANGUAGE.expression(source, NAMES)
        except ExpressionError:
            return
    names = {**{"x": Decimal(1), "y": Decimal(0), "n": 3, "s": "a", "d": _dt.date(2021, 1, 31), "m": {},
                "l": [], "b": True, "ingen": None}, **names}
    walked = _run(source, expr, names, reference=True)     # simpleeval, the reference interpreter
    for trace in (False, True):
        compiled = _run(source, expr, names, reference=False, trace=trace)  # the engine's one runtime
        assert walked[0] == compiled[0], (walked, compiled)
        if walked[0] == "ok":
            assert walked[1] == compiled[1] or walked[1] != walked[1], (walked, compiled)   # NaN != NaN


# --- ruleset files: a shipped question, mutated ------------------------------------------------------


SHIPPED = Path(__file__).resolve().parent.parent / "rulesets" / "syddanmark-2021"
# The shipped parameters go into the test folder's header, so that e.g. lukning compiles there.
_PARAMETERS = textwrap.indent(yaml.safe_dump(
    yaml.safe_load((SHIPPED / "regelsaet.yaml").read_text("utf-8")).get("parametre") or {},
    allow_unicode=True, sort_keys=False), "  ")


def _write(root: Path, question: str, text: str) -> None:
    write_ruleset(root, {f"{question}.yaml": text}, extra_header=_PARAMETERS)


def _compiles_unchanged(question: str) -> bool:
    root = Path(tempfile.mkdtemp(prefix="fuzz-regelsaet-"))
    try:
        _write(root, question, (SHIPPED / f"{question}.yaml").read_text("utf-8"))
        Engine.from_path(root)
        return True
    except RulesetErrors:   # needs more than one file of its ruleset (a source list, a library)
        return False
    finally:
        shutil.rmtree(root, ignore_errors=True)


MUTABLE = [p.stem for p in sorted(SHIPPED.glob("*.yaml")) if p.name != "regelsaet.yaml" and _compiles_unchanged(p.stem)]
_ORIGINALS = {q: yaml.safe_load((SHIPPED / f"{q}.yaml").read_text("utf-8")) for q in MUTABLE}
_JUNK_VALUES = [None, "", "x", 0, -1, 1.5, True, [], {}, [1], {"a": 1}, "'", "2021-02-30", "a" * 600,
                "x.__class__", "9 ** 9 ** 9", "løbende måned + + 1 måned", "SEL-999", "id", "formel", "unik",
                {"fra": "x"}, {"til": 1, "under": 2}, ["-"], "-", {"naar": {}}, [{"id": "x"}]]
_KEYS = ["id", "kilde", "formel", "naar", "tabel", "kraev", "ikke_reguleret", "advarsel", "varianter", "input",
         "udfald", "regler", "saet", "beregn", "kraever", "hitpolitik", "ingen_match", "liste", "trin", "resultat"]


def _paths(value: Any, path: tuple = ()) -> list[tuple]:
    out = [path]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, path + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, path + (i,))
    return out


def _mutate(data: Any, draw) -> Any:
    data = copy.deepcopy(data)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_paths(data)[1:]))
        parent = data
        for key in path[:-1]:
            parent = parent[key]
        key = path[-1]
        op = draw(st.sampled_from(["replace", "delete", "rename", "duplicate", "junk-formula"]))
        if op == "replace":
            parent[key] = copy.deepcopy(draw(st.sampled_from(_JUNK_VALUES)))  # later mutations may change it
        elif op == "delete":
            del parent[key]
        elif op == "rename" and isinstance(parent, dict):
            parent[draw(st.sampled_from(_KEYS))] = parent.pop(key)
        elif op == "duplicate" and isinstance(parent, list):
            parent.append(copy.deepcopy(parent[key]))
        elif op == "junk-formula" and isinstance(parent[key], str):
            parent[key] = draw(expressions)
    return data


@settings(FUZZ, max_examples=max(10, settings.default.max_examples // 4), deadline=None)
@given(st.sampled_from(MUTABLE), st.data())
def test_a_mutated_shipped_question_compiles_or_is_a_located_error(question, data):
    mutated = _mutate(_ORIGINALS[question], data.draw)
    root = Path(tempfile.mkdtemp(prefix="fuzz-regelsaet-"))
    try:
        _write(root, question, yaml.safe_dump(mutated, allow_unicode=True, sort_keys=False))
        try:
            with time_limit(10):
                engine = Engine.from_path(root)
        except RulesetErrors as exc:
            assert all(":" in (e.location or "") for e in exc.errors), [str(e) for e in exc.errors]
            return
        # It still compiles: then the shipped examples must give results or engine errors.
        for example in _ORIGINAL_EXAMPLES.get(question, []):
            for trace in (True, False):
                try:
                    with time_limit(5):
                        engine.evaluate(question, example, ruleset="test-2021", trace=trace)
                except EngineError:
                    pass
                except Exception as exc:  # noqa: BLE001
                    if not _known_output_gap(exc):
                        raise
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _known_output_gap(exc: BaseException) -> bool:
    """A raw error from the output typing (model/catalogue.py's typed_output, which calls each type's
    typer): a known gap, not this test's business.

    A mutated ``saet`` gives an output a value of the wrong type (``proces: 0`` for a list);
    typed_output then fails outside the evaluation wrapper (docs/hardening.md, 'Known gaps').
    """
    frames = traceback.extract_tb(exc.__traceback__)
    return any(f.filename.endswith("catalogue.py") and f.name == "typed_output" for f in frames)


def _examples_of(question: str) -> list[dict[str, Any]]:
    path = SHIPPED / "eksempler" / f"{question}.yaml"
    if not path.exists():
        return []
    return [e["sag"] for e in load_file(path).data["eksempler"]][:4]


_ORIGINAL_EXAMPLES = {q: _examples_of(q) for q in MUTABLE}


# --- cases: every field of every answered question, valid, extreme, hostile or absent ---------------

from .test_hostile import ANSWERED, _extreme, _hostile, _valid, shipped  # noqa: E402
from rammeaftale.model.catalogue import catalogue  # noqa: E402
from rammeaftale.errors import InvalidCase  # noqa: E402


@st.composite
def fuzzed_cases(draw):
    ruleset, question, base = draw(st.sampled_from(ANSWERED))
    case = dict(base)
    spoiled: list[str] = []
    for name, field in catalogue()[question].inputs.items():
        spec = dict(field.spec)
        choice = draw(st.sampled_from(["keep", "keep", "valid", "extreme", "hostile", "absent"]))
        if choice == "valid":
            case[name] = _valid(spec)
        elif choice == "extreme":
            case[name] = draw(st.sampled_from(_extreme(spec)))
        elif choice == "hostile":
            value, suffix = draw(st.sampled_from(_hostile(spec)))
            case[name] = value
            spoiled.append(name)
        elif choice == "absent":
            case.pop(name, None)
    return ruleset, question, case, spoiled


@settings(FUZZ, deadline=None)   # bounded by time_limit below instead
@given(fuzzed_cases())
def test_random_cases_give_a_result_or_an_engine_error(drawn):
    ruleset, question, case, spoiled = drawn
    inputs = catalogue()[question].inputs
    # Coercion goes through the fields in catalogue order and stops at the first bad one.
    first_bad = next((n for n, f in inputs.items()
                      if n in spoiled or (f.required and case.get(n) is None)), None)
    for trace in (True, False):
        try:
            with time_limit(15):   # the largest legal case (1000 × 1000 amounts) takes ≈ 1.5 s
                shipped().evaluate(question, case, ruleset=ruleset, trace=trace)
        except InvalidCase as exc:
            if first_bad is not None:
                assert (exc.path or "").split(".")[0].split("[")[0] == first_bad, (exc.path, first_bad)
        except EngineError:
            assert first_bad is None
        else:
            assert first_bad is None, f"{first_bad} blev accepteret"
