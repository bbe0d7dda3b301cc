from adapters.docgen import DOCS, OUTPUTS


def test_generated_docs_are_fresh() -> None:
    for name, render in OUTPUTS.items():
        assert (DOCS / name).read_text() == render(), f"docs/{name} is stale: run `make docs`"


def test_the_diagram_shows_every_transition_of_the_machine() -> None:
    from workflows.machine import TABLE

    diagram = OUTPUTS["workflow.md"]()
    for trigger, sources, _dest, _guards in TABLE:
        for source in sources:
            assert f"{source} --> " in diagram and f": {trigger} (" in diagram
