"""Continue from a run in the history (issue 25.4): its saved pruned model (``prune_core.io.run_files``) becomes the
session's current model and its zeros the candidate, so the Retrain page's one-shot fine-tunes it further with those
zeros held and the Prune page prunes it further — also after a browser reload, when the session's own runs are gone.
The Compare page offers it under its run table.

What is loaded is said in words (run, label, sparsity of the file read back, accuracy when the run finished); a run
whose file is gone, unreadable, or whose data this session does not hold is refused with the reason, and the session
is left as it was."""

from __future__ import annotations

import streamlit as st

from . import state
from .text import md

CHOICE_KEY = "cmp_continue_choice"
LOADED_KEY = "continued_run"  # (weights key of the loaded model, the sentence saying what was loaded)


def has_file(record: dict) -> bool:
    """Whether the run's pruned model is on disk."""
    return "pruned" in state.run_files().available(state.workspace(), record["run_id"])


def run_words(record: dict) -> str:
    """'#3 · one-shot · magnitude · per layer · 85.4% · 97.10%' (plain text: escape before Markdown)."""
    from prune_core.viz import words

    accuracy = record.get("final_accuracy")
    tail = f" · {accuracy:.2%}" if isinstance(accuracy, (int, float)) else ""
    return f"#{record['run_id']} · {words.human_label(record.get('label') or words.mode_word(record.get('mode')))}{tail}"


def choice_label(record: dict, saved: bool = True) -> str:
    """The run box's label: the run and the model it pruned, and whether its model is on disk (plain text: the box
    shows it as text)."""
    from prune_core.viz import words

    return f"{run_words(record)} · {words.run_model(record)}{'' if saved else ' · no saved model'}"


def _input_shape(model) -> tuple[int, ...]:
    return tuple(int(d) for d in model.inputs[0].shape[1:])


def _data_key(record: dict, model) -> tuple[str | None, str]:
    """(data key, "") for the data the run was measured on, when this session holds it; (None, why) otherwise."""
    from prune_core.io import data

    wanted = (record.get("settings") or {}).get("data")
    shape = _input_shape(model)
    if wanted is None or wanted == state.mnist_dataset().name:  # MNIST, reshaped for the model as an upload's is
        return state.mnist_key_for(shape), ""
    try:
        fashion = state.load_dataset("fashion")
    except Exception:  # noqa: BLE001 - an unavailable bundled set is simply not a match
        fashion = None
    if fashion is not None and fashion.name == wanted and tuple(fashion.input_shape) == shape:
        return data.FASHION_KEY, ""
    for key, held in st.session_state.get("uploaded_datasets", {}).items():
        if held.name == wanted and tuple(held.input_shape) == shape:
            return key, ""
    return None, (f"Run #{record['run_id']} was measured on “{wanted}”, which this session does not hold now: choose "
                  "or upload that data on the Model page, then continue from this run.")


def _model_name(record: dict) -> str:
    """'LeNet-300-100 · run #3 from the history'; an upload keeps its file name first, so its runs stay grouped."""
    from prune_core.viz import words

    settings = record.get("settings") or {}
    architecture = str(settings.get("architecture") or "")
    if architecture.startswith("uploaded"):
        base = str(settings.get("model") or "uploaded model").split(" · ")[0]
    else:
        base = words.model_name(architecture) if architecture else "model"
    return f"{base} · run #{record['run_id']} from the history"


def continue_from(record: dict) -> str:
    """Make the run's saved pruned model the current model and its zeros the candidate; "" on success, else why
    not (the session is then unchanged)."""
    from prune_core.methods.masks import held_zeros
    from prune_core.viz import words

    run_id, workspace = record["run_id"], state.workspace()
    if not has_file(record):
        return (f"Run #{run_id}'s saved model is not on disk any more (its files were deleted, or it was recorded "
                "before runs kept their models): it can still be compared, but not continued from. Run it again on "
                "the Retrain page.")
    try:
        model = state.run_files().load(workspace, run_id, roles=("pruned",))["pruned"]
    except Exception as exc:  # noqa: BLE001 - a damaged or vanished file: say which run, change nothing
        return (f"Run #{run_id}'s saved model could not be read ({type(exc).__name__}): nothing was changed. Run it "
                "again on the Retrain page.")
    data_key, why = _data_key(record, model)
    if data_key is None:
        return why
    settings = dict(record.get("settings") or {})
    held = held_zeros(model)
    sparsity, accuracy = held.overall_sparsity, record.get("final_accuracy")
    accuracy_text = f"{accuracy:.2%}" if isinstance(accuracy, (int, float)) else "unmeasured"
    label = words.human_label(record.get("label") or words.mode_word(record.get("mode")))
    entry = state.ModelEntry(model=model, name=_model_name(record), architecture=str(settings.get("architecture") or ""),
                             origin="history", data_key=data_key, settings={**settings, "continued_from": run_id},
                             history=dict(record.get("history") or {}))
    state.set_model(entry)
    note = (f"**Run #{run_id} from the history**, loaded from disk: {md(label)} — **{sparsity:.1%}** of its prunable "
            f"weights at zero, **{accuracy_text}** test accuracy when it finished. One-shot fine-tunes it further with "
            "those zeros held at zero; to prune it further, apply a candidate on the Prune page.")
    state.set_candidate(state.Candidate(
        # magnitude per layer at each layer's share of zeros selects exactly these zeros: the spec the record gets
        mask_set=held, settings=dict(criterion="magnitude", granularity="weight", rule="sparsity", scope="layer",
                                     same=False),
        values={name: round(share, 6) for name, share in held.layer_sparsity().items()},
        weights_key=entry.weights_key, dense_accuracy=record.get("dense_accuracy"), pruned_accuracy=accuracy,
        sparsity=sparsity, note=note))
    st.session_state[LOADED_KEY] = (entry.weights_key, (
        f"Continued from run {md(run_words(record))} ({md(words.run_model(record))}): its saved pruned model is now the "
        f"current model — **{sparsity:.1%}** of its prunable weights at zero, **{accuracy_text}** test accuracy when "
        "it finished — and its zeros are the candidate the Retrain page's one-shot fine-tunes further."))
    return ""


def loaded_text() -> str | None:
    """The sentence saying which run was loaded, while that model is still the current one (Markdown-safe)."""
    held = st.session_state.get(LOADED_KEY)
    if held is None or not state.has_model() or st.session_state["model_entry"].weights_key != held[0]:
        return None
    return held[1]
