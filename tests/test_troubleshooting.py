"""Every error message the code can print has a row in docs/troubleshooting.md.

The messages are read from the source with ``ast``: the first argument of every call to an
exception class defined in emgfeedback whose name ends in ``Error`` (raised or not), and of
``parser.error(...)``. Arguments that are not literal are followed: a local variable to its
assignments (``x = ...``, ``a, b = ..., ...``, ``x.append(...)``), ``self.attr`` to its
assignments in the module, a call to a module function to its ``return`` values, a
parameter to the arguments of the calls in the same module. Each message is reduced to its
problem part (up to the first ``": "``, leading placeholders dropped), placeholders become
wildcards, and that pattern must match the document, where placeholders are written ``<name>``.

Run ``python tests/test_troubleshooting.py`` to list the messages with no row yet.

The other user docs are held to the code the same way: every command has an example in
its ``--help`` and a section in docs/cli.md, and the shortcut tables in README.md and
docs/cli.md are the dashboard's ``SHORTCUTS``.
"""

from __future__ import annotations

import ast
import re
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "emgfeedback"
DOC = ROOT / "docs" / "troubleshooting.md"

#: Fewer literal characters than this in the problem part: take the text up to the next ": " too.
MIN_PROBLEM_CHARS = 12
#: A message with fewer literal characters than this is all placeholders: nothing stable to document.
MIN_LITERAL_CHARS = 8
MAX_DEPTH = 4
LOGGERS = {"log", "logger", "logging", "LOG", "LOGGER", "_log", "_logger"}

Part = tuple[str, str]  # ("lit", text) or ("ph", expression)


@dataclass(frozen=True)
class Message:
    """One message template and where it comes from."""

    parts: tuple[Part, ...]
    where: str

    @property
    def text(self) -> str:
        """The message as the doc writes it: placeholders as ``<expr>``."""
        return "".join(t if k == "lit" else f"<{t}>" for k, t in self.parts)


# --- reading the source -----------------------------------------------------------------------------------------
@dataclass
class Module:
    path: Path
    tree: ast.Module
    parents: dict[ast.AST, ast.AST]
    functions: dict[str, list[ast.FunctionDef | ast.AsyncFunctionDef]]


def load_modules() -> list[Module]:
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
        functions: dict[str, list] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                functions.setdefault(node.name, []).append(node)
        out.append(Module(path, tree, parents, functions))
    return out


def error_classes(modules: list[Module]) -> set[str]:
    return {
        node.name for m in modules for node in ast.walk(m.tree) if isinstance(node, ast.ClassDef) and node.name.endswith("Error")
    }


def _call_name(call: ast.Call) -> str | None:
    f = call.func
    return f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None


def _receiver(call: ast.Call) -> str | None:
    f = call.func
    if isinstance(f, ast.Attribute):
        v = f.value
        return v.id if isinstance(v, ast.Name) else v.attr if isinstance(v, ast.Attribute) else None
    return None


class Resolver:
    """Turns a message expression into templates, following names, attributes, calls and parameters."""

    def __init__(self, modules: list[Module]) -> None:
        self.modules = modules
        self.by_function: dict[str, list[tuple[Module, ast.AST]]] = {}
        for m in modules:
            for name, defs in m.functions.items():
                self.by_function.setdefault(name, []).extend((m, d) for d in defs)

    def scope(self, m: Module, node: ast.AST) -> ast.AST:
        """The function enclosing ``node`` (or the module)."""
        cur = node
        while cur in m.parents:
            cur = m.parents[cur]
            if isinstance(cur, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                return cur
        return m.tree

    def templates(self, m: Module, expr: ast.AST, depth: int = 0) -> list[list[Part]]:
        if depth > MAX_DEPTH:
            return [[("ph", "...")]]
        if isinstance(expr, ast.Constant):
            return [[("lit", expr.value)]] if isinstance(expr.value, str) else []
        if isinstance(expr, ast.JoinedStr):
            parts: list[Part] = []
            for v in expr.values:
                if isinstance(v, ast.Constant):
                    parts.append(("lit", str(v.value)))
                elif isinstance(v, ast.FormattedValue):
                    parts.append(("ph", ast.unparse(v.value)))
            return [parts]
        if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):
            lefts, rights = self.templates(m, expr.left, depth), self.templates(m, expr.right, depth)
            return [a + b for a in lefts for b in rights]
        if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Mod) and isinstance(expr.left, ast.Constant):
            return [_split_placeholders(str(expr.left.value), r"%[-+ #0-9.]*[sdrfgx]")]
        if isinstance(expr, ast.IfExp):
            return self.templates(m, expr.body, depth) + self.templates(m, expr.orelse, depth)
        if isinstance(expr, ast.BoolOp):
            return [t for v in expr.values for t in self.templates(m, v, depth)]
        if isinstance(expr, ast.Subscript):
            return self.templates(m, expr.value, depth)
        if isinstance(expr, ast.Name):
            return self._name(m, expr, depth)
        if isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name) and expr.value.id == "self":
            return self._self_attr(m, expr.attr, depth)
        if isinstance(expr, ast.Call):
            f = expr.func
            if isinstance(f, ast.Attribute) and f.attr == "format" and isinstance(f.value, ast.Constant):
                return [_split_placeholders(str(f.value.value), r"\{[^{}]*\}")]
            if isinstance(f, ast.Name) and f.id in self.by_function:
                out = []
                for mod, fn in self.by_function[f.id]:
                    for node in ast.walk(fn):
                        if isinstance(node, ast.Return) and node.value is not None and self.scope(mod, node) is fn:
                            out += self.templates(mod, node.value, depth + 1)
                return out
        return [[("ph", ast.unparse(expr))]]

    def _name(self, m: Module, name: ast.Name, depth: int) -> list[list[Part]]:
        scope = self.scope(m, name)
        found: list[list[Part]] = []
        for node in ast.walk(scope):
            if isinstance(node, ast.Call) and node.args and _call_name(node) in ("append", "add") and _receiver(node) == name.id:
                # also in nested functions: a closure may fill the list the outer function raises from
                found += self.templates(m, node.args[0], depth + 1)
                continue
            if self.scope(m, node) is not scope and node is not scope:
                continue
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    found += self._assigned(m, target, node.value, name.id, depth)
            elif isinstance(node, ast.AnnAssign) and node.value is not None:
                found += self._assigned(m, node.target, node.value, name.id, depth)
        if found:
            return found
        if isinstance(scope, ast.FunctionDef | ast.AsyncFunctionDef):
            params = [a.arg for a in scope.args.posonlyargs + scope.args.args + scope.args.kwonlyargs]
            if name.id in params:
                return self._parameter(m, scope, name.id, depth) or [[("ph", name.id)]]
            for node in m.tree.body:  # a module-level constant
                if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
                    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                    for target in targets:
                        found += self._assigned(m, target, node.value, name.id, depth)
        return found or [[("ph", name.id)]]

    def _assigned(self, m: Module, target: ast.AST, value: ast.AST, name: str, depth: int) -> list[list[Part]]:
        if isinstance(target, ast.Name) and target.id == name:
            return self.templates(m, value, depth + 1)
        if isinstance(target, ast.Tuple) and isinstance(value, ast.Tuple) and len(target.elts) == len(value.elts):
            out = []
            for t, v in zip(target.elts, value.elts, strict=True):
                out += self._assigned(m, t, v, name, depth)
            return out
        return []

    def _self_attr(self, m: Module, attr: str, depth: int) -> list[list[Part]]:
        out = []
        for node in ast.walk(m.tree):
            if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for t in targets:
                    if isinstance(t, ast.Attribute) and t.attr == attr and isinstance(t.value, ast.Name) and t.value.id == "self":
                        out += self.templates(m, node.value, depth + 1)
        return out or [[("ph", f"self.{attr}")]]

    def _parameter(self, m: Module, fn: ast.AST, param: str, depth: int) -> list[list[Part]]:
        assert isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef)
        positional = [a.arg for a in fn.args.posonlyargs + fn.args.args]
        if positional and positional[0] in ("self", "cls"):
            positional = positional[1:]
        out = []
        for node in ast.walk(m.tree):
            if isinstance(node, ast.Call) and _call_name(node) == fn.name:
                arg = next((k.value for k in node.keywords if k.arg == param), None)
                if arg is None and param in positional and positional.index(param) < len(node.args):
                    arg = node.args[positional.index(param)]
                if arg is not None:
                    out += self.templates(m, arg, depth + 1)
        return out


def _split_placeholders(text: str, pattern: str) -> list[Part]:
    parts: list[Part] = []
    pos = 0
    for match in re.finditer(pattern, text):
        parts.append(("lit", text[pos : match.start()]))
        parts.append(("ph", match.group().strip("{}%") or "value"))
        pos = match.end()
    parts.append(("lit", text[pos:]))
    return parts


def collect_messages() -> list[Message]:
    """Every message template in the package (duplicates removed)."""
    modules = load_modules()
    classes = error_classes(modules)
    resolver = Resolver(modules)
    seen: dict[tuple[Part, ...], Message] = {}
    for m in modules:
        for node in ast.walk(m.tree):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            name = _call_name(node)
            is_error = name in classes
            is_parser_error = name == "error" and _receiver(node) not in LOGGERS and isinstance(node.func, ast.Attribute)
            if not (is_error or is_parser_error):
                continue
            where = f"{m.path.relative_to(ROOT)}:{node.lineno}"
            for template in resolver.templates(m, node.args[0]):
                parts = _merge(template)
                if parts:
                    seen.setdefault(parts, Message(parts, where))
    return list(seen.values())


def _merge(parts: list[Part]) -> tuple[Part, ...]:
    out: list[Part] = []
    for kind, text in parts:
        if kind == "lit" and out and out[-1][0] == "lit":
            out[-1] = ("lit", out[-1][1] + text)
        elif kind == "ph" or text:
            out.append((kind, text))
    return tuple(out)


# --- reducing a message to what the doc must contain -----------------------------------------------------------
def problem_part(parts: tuple[Part, ...]) -> tuple[Part, ...] | None:
    """The stable leading phrase: leading placeholders dropped, cut at the first ": " once it says enough."""
    items = list(parts)
    while items:  # drop leading placeholders and the separators after them
        kind, text = items[0]
        if kind == "ph":
            items.pop(0)
            continue
        stripped = text.lstrip(" :,;.-)")
        if stripped:
            items[0] = ("lit", stripped)
            break
        items.pop(0)
    out: list[Part] = []
    chars = 0
    for kind, text in items:
        if kind == "ph":
            out.append((kind, text))
            continue
        rest = text
        while ": " in rest:
            head, _, rest = rest.partition(": ")
            out.append(("lit", head))
            chars += len(head.strip())
            if chars >= MIN_PROBLEM_CHARS:
                return _tidy(out)
            out.append(("lit", ": "))
        out.append(("lit", rest))
        chars += len(rest.strip())
    return _tidy(out)


def _tidy(parts: list[Part]) -> tuple[Part, ...] | None:
    merged = list(_merge(parts))
    while merged and merged[-1][0] == "ph":
        merged.pop()
    if merged:
        merged[-1] = ("lit", merged[-1][1].rstrip(" :,;.(-"))
    literal = sum(len(t.strip()) for k, t in merged if k == "lit")
    return tuple(merged) if literal >= MIN_LITERAL_CHARS else None


def phrase_text(parts: tuple[Part, ...]) -> str:
    return "".join(t if k == "lit" else f"<{t}>" for k, t in parts)


def phrase_pattern(parts: tuple[Part, ...]) -> re.Pattern[str]:
    """Literal text must match word for word (whitespace-insensitive); a placeholder matches a short span."""
    regex = []
    for kind, text in parts:
        if kind == "ph":
            regex.append(r".{0,80}?")
        else:
            words = normalize(text).split(" ")
            regex.append(r"\s+".join(re.escape(w) for w in words))
    return re.compile("".join(regex))


def normalize(text: str) -> str:
    """Markdown to plain text for matching: no backticks or escapes, single spaces."""
    text = text.replace("`", "").replace("\\|", "|").replace("&lt;", "<").replace("&gt;", ">")
    return re.sub(r"\s+", " ", text)


def missing_messages() -> tuple[list[tuple[Message, str]], int]:
    """(messages with no row, how many were checked)."""
    doc = normalize(DOC.read_text(encoding="utf-8")) if DOC.exists() else ""
    missing = []
    checked = 0
    for msg in collect_messages():
        phrase = problem_part(msg.parts)
        if phrase is None:
            continue
        checked += 1
        if not phrase_pattern(phrase).search(doc):
            missing.append((msg, phrase_text(phrase)))
    return missing, checked


# --- tests ---------------------------------------------------------------------------------------------------------------
def test_extraction_finds_the_known_kinds_of_message() -> None:
    texts = [m.text for m in collect_messages()]
    assert len(texts) > 50
    # a literal, an f-string, a variable built by .append, a tuple assignment, and a function's return value
    assert any(t.startswith("give --source SRC") for t in texts)
    assert any(t.startswith("mains <text!r> is not understood") or t.startswith("mains <text> is not understood") for t in texts)
    assert any("no such directory for --screenshot" in t for t in texts)
    assert any(t.startswith("recording failed: ") for t in texts)
    if (PACKAGE / "io" / "serial_source.py").exists():
        assert any("no such serial port" in t for t in texts)


def test_reduction_to_the_problem_part() -> None:
    def reduce(parts: list[Part]) -> str | None:
        p = problem_part(tuple(parts))
        return None if p is None else phrase_text(p)

    assert reduce([("ph", "path"), ("lit", ": no such profile file: check the name")]) == "no such profile file"
    assert reduce([("lit", "mains "), ("ph", "text"), ("lit", " is not understood: use 50, 60 or off")]) == (
        "mains <text> is not understood"
    )
    assert reduce([("lit", "bad: "), ("ph", "x"), ("lit", " is wrong here: fix it")]) == "bad: <x> is wrong here"
    assert reduce([("ph", "a"), ("lit", ": "), ("ph", "b")]) is None
    pattern = phrase_pattern(problem_part((("lit", "mains "), ("ph", "t"), ("lit", " is not understood: x"))) or ())
    assert pattern.search(normalize("| `mains <value> is not understood: use 50, 60 or off` | ... |"))
    assert not pattern.search(normalize("band <value> is not understood"))


def test_every_error_message_has_a_troubleshooting_row() -> None:
    assert DOC.exists(), "docs/troubleshooting.md is missing"
    missing, checked = missing_messages()
    assert checked > 50
    listing = "\n".join(f"  {phrase!r}  <- {msg.text!r} ({msg.where})" for msg, phrase in missing)
    assert not missing, f"{len(missing)} of {checked} messages have no row in docs/troubleshooting.md:\n{listing}"


def _commands() -> dict[str, object]:
    from emgfeedback.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    return dict(sub.choices)  # type: ignore[attr-defined]


def test_every_command_help_has_an_example() -> None:
    lacking = [
        name
        for name, parser in _commands().items()
        if not re.search(r"^examples?:\n\s+emgfeedback ", parser.epilog or "", flags=re.MULTILINE)  # type: ignore[attr-defined]
    ]
    assert not lacking, f"--help without an 'example:' epilog: {lacking}"


def test_cli_reference_covers_every_command() -> None:
    text = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    headings = set(re.findall(r"^## (\S+)$", text, flags=re.MULTILINE))
    missing = [name for name in _commands() if name not in headings]
    assert not missing, f"docs/cli.md has no section for {missing}"
    for name in _commands():
        section = text.split(f"\n## {name}\n", 1)[1].split("\n## ", 1)[0]
        assert f"emgfeedback {name}" in section, f"docs/cli.md: the {name} section has no example"


def test_shortcut_tables_match_the_dashboard() -> None:
    from emgfeedback.ui.main_window import SHORTCUTS

    for doc in (ROOT / "README.md", ROOT / "docs" / "cli.md"):
        rows = re.findall(r"^\| (.+?) \| (.+?) \|$", doc.read_text(encoding="utf-8"), flags=re.MULTILINE)
        table = {k: v for k, v in rows}
        for key, action in SHORTCUTS:
            assert table.get(key) == action, f"{doc.name}: shortcut {key!r} should read {action!r}, not {table.get(key)!r}"


if __name__ == "__main__":
    missing, checked = missing_messages()
    for msg, phrase in sorted(missing, key=lambda x: x[0].where):
        print(f"{msg.where}\n    phrase:  {phrase}\n    message: {msg.text}")
    print(f"{len(missing)} of {checked} messages missing from {DOC.relative_to(ROOT)}", file=sys.stderr)
    sys.exit(1 if missing else 0)
