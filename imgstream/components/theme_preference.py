"""Applies the signed-in user's theme preference to the app's color mode."""

from __future__ import annotations

import reflex as rx
from reflex.vars.base import Var, VarData
from reflex_base.style import color_mode_imports

from imgstream.state.session import SessionState


class ThemePreference(rx.Fragment):
    """Renders nothing; sets the color mode whenever the user's theme preference is known."""

    def add_hooks(self) -> list[str | Var]:
        """A React effect keyed on the preference."""
        theme = SessionState.theme
        return [
            Var(
                _js_expr=f"useEffect(() => {{ if ({theme}) setColorMode({theme}); }}, [{theme}])",
                _var_data=VarData.merge(
                    theme._get_all_var_data(),
                    VarData(
                        imports={**color_mode_imports, "react": ["useContext", "useEffect"]},
                        hooks={"const { setColorMode } = useContext(ColorModeContext)": None},
                    ),
                ),
            )
        ]


theme_preference = ThemePreference.create
