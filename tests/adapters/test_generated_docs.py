from adapters.tooling.docgen import DOCS, OUTPUTS


def test_generated_docs_are_fresh() -> None:
    for name, render in OUTPUTS.items():
        assert (DOCS / name).read_text() == render(), f"docs/{name} is stale: run `make docs`"


def test_the_command_line_reference_is_fresh() -> None:
    from adapters.cli.reference import cli_markdown

    assert (DOCS / "cli.md").read_text() == cli_markdown(), "docs/cli.md is stale: run `make docs`"


def test_the_diagram_shows_every_transition_of_the_machine() -> None:
    from domain.lifecycle import TABLE

    diagram = OUTPUTS["workflow.md"]()
    for step, sources, _dest, _rules in TABLE:
        for source in sources:
            assert f"{source} --> " in diagram and f": {step} (" in diagram
