"""Every value a browser sends for a widget is checked against that widget before any code sees it.

A normal browser only sends what its widgets offer, but a modified client can send anything over
the websocket: a string for a slider, an option a select box doesn't have, an index past the end
of a select slider, NaN for a number box, a megabyte for a text box. Streamlit 1.67 hands such a
value to the widget's own deserializer, which can raise before the page script even starts
(TypeError in slider.py, ValueError in number_input.py), or to the page code, which then does
arithmetic with it (`views/controls.py` once added 1 to a string: TypeError).

`install()` wraps `SessionState.set_widgets_from_proto`, the one place the browser's widget
values enter a session, so the check covers every widget on every page, including pages written
later. Each incoming value is compared with the widget as the server last drew it (its
registered metadata and serde): the right value type, one of its options, within its bounds,
no longer than its character limit, and readable by its own deserializer. A value that fails is
dropped, so the widget keeps its last good value (its default if it never had another), and the
page shows a notice (`pop_rejected`). Values for widgets the server has not drawn yet are left to
Streamlit, which registers them against their widget before use.
"""

from __future__ import annotations

import logging
import math
import threading
from typing import Any

from streamlit.proto.WidgetStates_pb2 import WidgetStates
from streamlit.runtime.state.common import unpack_widget_state_value
from streamlit.runtime.state.session_state import SessionState

LOG = logging.getLogger(__name__)
REJECTED_KEY = "_rejected_widget_values"  # session-state key of the notices not yet shown
MAX_TEXT_CHARS = 10_000  # for text boxes that set no max_chars of their own
# Serdes whose deserialize only converts a value (no uploads or chat records consumed), so
# calling it once more to check a value is harmless.
PURE_SERDES = {
    "SelectboxSerde",
    "RadioSerde",
    "MultiSelectSerde",
    "SelectSliderSerde",
    "SliderSerde",
    "NumberInputSerde",
    "TextInputSerde",
    "TextAreaSerde",
    "CheckboxSerde",
    "ColorPickerSerde",
    "_SingleSelectButtonGroupSerde",
    "_MultiSelectButtonGroupSerde",
    "_TabsSerde",
}

# A browser sends a whole-number box's value as int_value, though its widget registers
# double_value; Streamlit reads either.
NUMBERS = {"int_value", "double_value"}

_install_lock = threading.Lock()
_original = None


def install() -> None:
    """Check every incoming widget value from now on (once per process; idempotent)."""
    global _original
    with _install_lock:
        if _original is not None:
            return
        _original = SessionState.set_widgets_from_proto

        def set_checked_widgets_from_proto(self: SessionState, widget_states: WidgetStates):
            accepted = WidgetStates()
            rejected = []
            for state in widget_states.widgets:
                metadata = self._new_widget_state.widget_metadata.get(state.id)
                problem = problem_with(state, metadata)
                if problem is None:
                    accepted.widgets.append(state)
                else:
                    rejected.append(f"{widget_name(state.id)}: {problem}")
            if rejected:
                LOG.warning("ignored widget values from the browser: %s", "; ".join(rejected))
                earlier = self[REJECTED_KEY] if REJECTED_KEY in self else []  # noqa: SIM401
                self[REJECTED_KEY] = (earlier + rejected)[-10:]
            return _original(self, accepted)

        SessionState.set_widgets_from_proto = set_checked_widgets_from_proto


def problem_with(state, metadata) -> str | None:
    """Why the browser's value `state` (a WidgetState proto) doesn't fit its widget, or None."""
    if metadata is None:
        return None
    field = state.WhichOneof("value")
    if field is None:
        return None
    if field != metadata.value_type and {field, metadata.value_type} != NUMBERS:
        return f"a {field} was sent, the widget takes a {metadata.value_type}"
    serde = getattr(metadata.deserializer, "__self__", None)
    if type(serde).__name__ not in PURE_SERDES:
        return None
    value = getattr(state, field)
    problem = _options_problem(serde, field, value) or _bounds_problem(serde, field, value)
    problem = problem or _length_problem(serde, value)
    if problem:
        return problem
    try:
        metadata.deserializer(unpack_widget_state_value(state))
    except Exception as error:  # noqa: BLE001 - whatever the deserializer can't read
        return f"the widget can't read it ({type(error).__name__})"
    return None


def _options_problem(serde: Any, field: str, value: Any) -> str | None:
    index = getattr(serde, "formatted_option_to_option_index", None)
    if index is None:
        index = getattr(serde, "formatted_option_to_index", None)
    if index is None:
        return None
    labels = [value] if field == "string_value" else list(getattr(value, "data", []))
    for label in labels:
        if label not in index:
            return f"{_short(label)} is not one of its options"
    return None


def _bounds_problem(serde: Any, field: str, value: Any) -> str | None:
    low, high = getattr(serde, "min_value", None), getattr(serde, "max_value", None)
    if (
        low is None
        or high is None
        or field not in ("double_value", "int_value", "double_array_value")
    ):
        return None
    numbers = list(value.data) if field == "double_array_value" else [value]
    if hasattr(serde, "single_value") and len(numbers) != (1 if serde.single_value else 2):
        return f"{len(numbers)} numbers were sent"
    for number in numbers:
        if not math.isfinite(number) or not low <= number <= high:
            return f"{_short(number)} is outside {low:g}..{high:g}"
    return None


def _length_problem(serde: Any, value: Any) -> str | None:
    if not hasattr(serde, "max_chars") or not isinstance(value, str):
        return None
    limit = serde.max_chars or MAX_TEXT_CHARS
    if len(value) > limit:
        return f"{len(value):,} characters were sent; it takes at most {limit:,}"
    return None


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def widget_name(widget_id: str) -> str:
    """The widget's key as the page named it (ids end in '-<key>'), without the settings prefix."""
    key = widget_id.rsplit("-", 1)[-1] if "-" in widget_id else "a control"
    return key.removeprefix("w_")
