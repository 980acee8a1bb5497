"""The claims/remittance boundary, checked on the source: claims import nothing from
remittance; remittance asks claims only through its verbs, states, schemas and repository;
both write and read X12 through the shared service/x12 layer, which knows neither."""

import ast
from pathlib import Path

SERVICE = Path(__file__).resolve().parents[1] / "service"
REMITTANCE_MAY_USE = frozenset(
    {
        "service.claims.verbs",
        "service.claims.states",
        "service.claims.schemas",
        "service.claims.repository",
    }
)


def _imports(package: str) -> dict[str, set[str]]:
    """module path -> the modules it imports (from X import Y counts X.Y when Y is a module),
    at any depth (imports inside functions too)."""
    found: dict[str, set[str]] = {}
    for path in sorted((SERVICE / package).rglob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
                names.update(f"{node.module}.{alias.name}" for alias in node.names)
        found[str(path.relative_to(SERVICE.parent))] = names
    return found


def _within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def test_claims_import_nothing_from_remittance() -> None:
    offenders = {
        module: sorted(n for n in names if _within(n, "service.remittance"))
        for module, names in _imports("claims").items()
    }
    assert {m: n for m, n in offenders.items() if n} == {}


def test_remittance_asks_claims_only_through_verbs_states_schemas_and_repository() -> None:
    offenders: dict[str, list[str]] = {}
    for module, names in _imports("remittance").items():
        claims = {n for n in names if _within(n, "service.claims")}
        # `from service.claims import verbs` names the package and the module: the package
        # itself is fine only as the parent of an allowed module.
        bad = sorted(
            n
            for n in claims
            if n != "service.claims"
            and not any(_within(n, allowed) for allowed in REMITTANCE_MAY_USE)
        )
        if bad:
            offenders[module] = bad
    assert offenders == {}


def test_the_shared_x12_layer_is_used_by_both_and_knows_neither() -> None:
    def uses_x12(package: str) -> bool:
        return any(_within(n, "service.x12") for names in _imports(package).values() for n in names)

    assert uses_x12("claims")
    assert uses_x12("remittance")
    x12 = _imports("x12")
    assert "service/x12/envelope.py" in x12
    assert "service/x12/tokens.py" in x12
    assert "service/x12/segments.py" in x12
    leaks = {
        m: sorted(
            n for n in names if _within(n, "service.claims") or _within(n, "service.remittance")
        )
        for m, names in x12.items()
    }
    assert {m: n for m, n in leaks.items() if n} == {}


def test_only_the_command_line_imports_the_demo_package() -> None:
    """Demo and synthetic data import the capabilities, never the other way round: nothing that
    serves a request loads it."""
    offenders = {
        module: sorted(n for n in names if _within(n, "service.demo"))
        for package in sorted(p.name for p in SERVICE.iterdir() if p.is_dir())
        if package not in {"demo", "__pycache__"}
        for module, names in _imports(package).items()
    }
    top_level = {
        str(path.relative_to(SERVICE.parent)): path.read_text()
        for path in SERVICE.glob("*.py")
        if path.name != "cli.py"
    }
    offenders.update(
        {m: ["service.demo"] for m, text in top_level.items() if "service.demo" in text}
    )
    assert {m: n for m, n in offenders.items() if n} == {}


# A route module parses input, calls logic or a repository and shapes the answer; the query
# itself lives in the capability's repository or logic, where another caller can reuse it.
QUERY_METHODS = frozenset({"exec", "execute", "scalar", "scalars", "get"})
QUERY_IMPORTS = frozenset({"sqlmodel.select", "sqlalchemy.select", "sqlalchemy.sql.select"})


def _route_modules() -> list[Path]:
    return sorted(
        path
        for path in SERVICE.rglob("*.py")
        if path.stem == "routes" or path.stem.endswith("_routes") or path.stem.startswith("routes_")
    )


def _receiver(node: ast.expr) -> str:
    """`session` for session.exec, `self.session` for self.session.exec."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def _queries_in(source: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found += [
                f"line {node.lineno}: imports {node.module}.{a.name}"
                for a in node.names
                if f"{node.module}.{a.name}" in QUERY_IMPORTS
            ]
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id == "select":
            found.append(f"line {node.lineno}: select(")
        elif isinstance(func, ast.Attribute) and func.attr == "select":
            found.append(f"line {node.lineno}: {_receiver(func.value)}.select(")
        elif (
            isinstance(func, ast.Attribute)
            and func.attr in QUERY_METHODS
            and "session" in _receiver(func.value).lower()
        ):
            found.append(f"line {node.lineno}: {_receiver(func.value)}.{func.attr}(")
    return found


def test_the_route_check_sees_queries() -> None:
    """The walker itself: each form a query takes in a route is caught."""
    source = (
        "from sqlmodel import Session, select\n"
        "import sqlalchemy as sa\n"
        "def route(session, s):\n"
        "    session.exec(select(A))\n"
        "    session.execute(sa.select(A))\n"
        "    s.session.scalar(q)\n"
        "    session.scalars(q)\n"
        "    session.get(A, 1)\n"
        "    names.get('x')\n"
        "    crud.get(session, user, R, 1)\n"
    )
    assert sorted(_queries_in(source)) == [
        "line 1: imports sqlmodel.select",
        "line 4: select(",
        "line 4: session.exec(",
        "line 5: sa.select(",
        "line 5: session.execute(",
        "line 6: session.scalar(",
        "line 7: session.scalars(",
        "line 8: session.get(",
    ]


def test_no_route_module_executes_a_query() -> None:
    modules = _route_modules()
    names = {str(p.relative_to(SERVICE.parent)) for p in modules}
    assert {
        "service/api/crud_routes.py",
        "service/claims/routes.py",
        "service/ledger/routes.py",
        "service/remittance/routes.py",
        "service/remittance/denial_routes.py",
        "service/fhir/routes.py",
    } <= names
    offenders = {
        str(path.relative_to(SERVICE.parent)): found
        for path in modules
        if (found := _queries_in(path.read_text()))
    }
    assert offenders == {}


def test_results_and_worklists_do_not_import_each_other() -> None:
    """One way only: results call the worklists' verbs (mark in progress, blocking controls);
    worklists know nothing of results."""
    uses_worklists = any(
        _within(n, "service.worklists") for names in _imports("results").values() for n in names
    )
    assert uses_worklists
    offenders = {
        m: sorted(n for n in names if _within(n, "service.results"))
        for m, names in _imports("worklists").items()
    }
    assert {m: n for m, n in offenders.items() if n} == {}


def test_code_sets_know_no_users_but_in_their_routes() -> None:
    """Code sets take a date, never an organization or a user; only the routes guard roles."""
    offenders = {
        m: sorted(n for n in names if _within(n, "service.auth"))
        for m, names in _imports("codesets").items()
        if m != "service/codesets/routes.py"
    }
    assert {m: n for m, n in offenders.items() if n} == {}


def test_no_module_of_the_service_is_over_600_lines() -> None:
    """Issue 15: a module that grows past 600 lines is split along its seams."""
    long = {
        str(path.relative_to(SERVICE)): n
        for path in SERVICE.rglob("*.py")
        if (n := len(path.read_text().splitlines())) > 600
    }
    assert long == {}
