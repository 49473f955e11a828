"""The reference's lines in the notebooks' notation: what a generated change is described with.

A generated change is told in words and in the formula of the line it changes, written as the
notebook writes it (U, V, W, s_t, o_t; colah's f_t, i_t, C̃_t, C_t, o_t, h_t for the LSTM; z_t,
r_t, h̃_t for the GRU; δ for a gradient), never as reference code. :data:`NAMES` says, per part,
what each of the reference's variables is called in the notebook; :func:`notation` renders an
expression with it (``W.T @ delta`` is ``Wᵀ δ``, ``np.outer(da, hx)`` is ``δa [h_{t-1}; x_t]ᵀ``,
``s[k - 1] ** 2`` is ``s_{k-1}²``) and gives ``None`` for anything it cannot say in the notation
(then the words go without a formula). :func:`statement_formula` renders the whole line:
``c_t = f * c_prev + i * c_tilde`` is ``C_t = f_t ⊙ C_{t-1} + i_t ⊙ C̃_t``.
"""
from __future__ import annotations

import ast

_COMMON = {
    "x_t": "x_t", "U": "U", "V": "V", "W": "W", "T": "T", "H": "H", "D": "D", "t": "t", "k": "k", "y": "y", "x": "x",
    "hx": "[h_{t-1}; x_t]", "h_prev": "h_{t-1}", "dh_t": "δh_t", "dh_next": "δh_next", "dx": "δx", "dh": "dh",
}

#: part -> the reference's variable -> its name in the notebook.
NAMES: dict[str, dict[str, str]] = {
    "rnn_forward": {**_COMMON, "s_prev": "s_{t-1}", "s_t": "s_t", "s": "s", "o": "o", "z": "z", "s0": "s_0", "shifted": "z - max z", "exps": "exp(z - max z)"},
    "softmax_derivative": {**_COMMON, "o": "o", "grad": "δz"},
    "bptt": {**_COMMON, "s": "s", "s_t": "s_t", "s0": "s_0", "s_init": "s_0", "s_before": "s_{k-1}", "delta": "δ", "err": "e",
             "dU": "dU", "dW": "dW", "dV": "dV", "o": "o", "product": "P", "eps": "ε", "norm": "‖g‖", "max_norm": "max_norm",
             "scale": "the scale", "f_plus": "f(x + ε)", "f_minus": "f(x - ε)"},
    "lstm": {**_COMMON, "f": "f_t", "i": "i_t", "o": "o_t", "c_tilde": "C̃_t", "c_t": "C_t", "c_prev": "C_{t-1}", "tanh_c": "tanh(C_t)",
             "h_t": "h_t", "dc_t": "δC_t", "dc_next": "δC_next", "dhx": "δ[h_{t-1}; x_t]", "c0": "C_0", "h0": "h_0", "z": "z",
             "Wf": "W_f", "Wi": "W_i", "Wc": "W_C", "Wo": "W_o", "bf": "b_f", "bi": "b_i", "bc": "b_C", "bo": "b_o"},
    "gru": {**_COMMON, "z": "z_t", "r": "r_t", "r_t": "r_t", "h_tilde": "h̃_t", "dz": "δz_t", "dr": "δr_t", "dh_tilde": "δh̃_t",
            "dh_prev": "δh_{t-1}", "da_h": "δa_h", "da_z": "δa_z", "da_r": "δa_r", "u": "[r_t ⊙ h_{t-1}; x_t]", "v": "[h_{t-1}; x_t]",
            "rhx": "[r_t ⊙ h_{t-1}; x_t]", "du": "δ[r_t ⊙ h_{t-1}; x_t]", "dv": "δ[h_{t-1}; x_t]", "h0": "h_0",
            "Wz": "W_z", "Wr": "W_r", "Wh": "W_h", "bz": "b_z", "br": "b_r", "bh": "b_h"},
}

#: What each function's returned value is called (for a ``return`` line).
RESULTS = {
    "softmax": "softmax(z)", "rnn_step_forward": "s_t", "cross_entropy_loss": "L", "softmax_jacobian": "∂y/∂z",
    "softmax_cross_entropy_grad": "∂L/∂z", "state_jacobian": "∂s_t/∂s_{t-1}", "sigmoid": "σ(z)", "forget_gate": "f_t",
    "input_gate": "i_t", "candidate_cell": "C̃_t", "output_gate": "o_t", "update_gate": "z_t", "reset_gate": "r_t",
    "candidate_hidden": "h̃_t", "gru_step_forward": "h_t",
}
_CALLS = {"tanh": "tanh", "sigmoid": "σ", "exp": "exp", "log": "log", "sqrt": "√", "diag": "diag"}
_HELPERS = {"forget_gate": "f_t", "input_gate": "i_t", "candidate_cell": "C̃_t", "output_gate": "o_t", "update_gate": "z_t",
            "reset_gate": "r_t", "candidate_hidden": "h̃_t", "state_jacobian": "∂s_j/∂s_{j-1}"}
_GATE_KEYS = {"f": "f", "i": "i", "c": "C", "o": "o", "z": "z", "r": "r", "h": "h"}
_SUPERSCRIPT = {2: "²", 3: "³"}
_PRECEDENCE = {ast.Add: 1, ast.Sub: 1, ast.Mult: 2, ast.MatMult: 2, ast.Div: 2, ast.Pow: 3}


def _index(node: ast.AST, names: dict[str, str]) -> str | None:
    if isinstance(node, ast.Name) and len(node.id) == 1:
        return node.id
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)) and isinstance(node.left, ast.Name) and isinstance(node.right, ast.Constant):
        return f"{node.left.id}{'+' if isinstance(node.op, ast.Add) else '-'}{node.right.value}"
    return None


def _key(node: ast.AST) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name) and len(node.id) == 1:
        return node.id  # grads[g], da[g]: one gate's entry
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add) and isinstance(node.left, ast.Constant) and isinstance(node.right, ast.Name):
        return f"{node.left.value}{node.right.id}"  # "W" + g
    return None


def _parameter(key: str) -> str:
    if key in ("h0", "c0"):
        return f"{key[0].upper() if key == 'c0' else 'h'}_0"
    if len(key) == 2 and key[0] in "Wb" and key[1] in _GATE_KEYS:
        return f"{key[0]}_{_GATE_KEYS[key[1]]}"
    if key.startswith("W") and key[1:] == "g" or key.startswith("b") and key[1:] == "g":
        return f"{key[0]}_g"
    return key


def notation(node: ast.AST, part: str) -> str | None:
    """``node`` in the notebook's notation, or None when some piece has no name there."""
    names = NAMES.get(part, _COMMON)

    def go(n: ast.AST, outer: int = 0) -> str:
        if isinstance(n, ast.Name):
            if n.id in names:
                name = names[n.id]
                return f"({name})" if " " in name and outer and name[0] not in "[(" else name
            raise ValueError(n.id)
        if isinstance(n, ast.Constant) and isinstance(n.value, (int, float)) and not isinstance(n.value, bool):
            return f"{n.value:g}"
        if isinstance(n, ast.Attribute) and n.attr == "T":
            return go(n.value, 3) + "ᵀ"
        if isinstance(n, ast.UnaryOp) and isinstance(n.op, ast.USub):
            return "-" + go(n.operand, 3)
        if isinstance(n, ast.BinOp) and type(n.op) in _PRECEDENCE:
            level = _PRECEDENCE[type(n.op)]
            if isinstance(n.op, ast.Pow) and isinstance(n.right, ast.Constant) and n.right.value in _SUPERSCRIPT:
                text = go(n.left, 4) + _SUPERSCRIPT[n.right.value]
            elif isinstance(n.op, ast.MatMult):
                text = f"{go(n.left, level)} {go(n.right, level + 1)}"
            elif isinstance(n.op, ast.Mult):  # elementwise; a matrix product inside it is bracketed
                scalar = isinstance(n.left, ast.Constant) or isinstance(n.right, ast.Constant)
                left = go(n.left, level + (isinstance(n.left, ast.BinOp) and isinstance(n.left.op, ast.MatMult)))
                text = f"{left} {'' if scalar else '⊙ '}{go(n.right, level + 1)}"
            elif isinstance(n.op, ast.Div):
                text = f"{go(n.left, level)} / {go(n.right, level + 1)}"
            else:
                text = f"{go(n.left, level)} {'+' if isinstance(n.op, ast.Add) else '-'} {go(n.right, level + 1)}"
            return f"({text})" if level < outer else text
        if isinstance(n, ast.Call):
            f = n.func
            name = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""
            if name in _CALLS and len(n.args) == 1:
                return f"{_CALLS[name]}({go(n.args[0])})"
            if name == "outer" and len(n.args) == 2:
                return f"{go(n.args[0], 3)} {go(n.args[1], 3)}ᵀ"
            if name == "concatenate" and n.args and isinstance(n.args[0], (ast.List, ast.Tuple)):
                return "[" + "; ".join(go(e) for e in n.args[0].elts) + "]"
            if name in ("sum", "mean") and (n.args or isinstance(f, ast.Attribute)):
                inner = go(n.args[0] if n.args and isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id == "np" else f.value, 3)
                return f"{'Σ' if name == 'sum' else 'mean'} {inner}"
            if name in _HELPERS:  # the student's own helper, by its API name
                return f"{name}({', '.join(go(a) for a in n.args)})"
            raise ValueError(name)
        if isinstance(n, ast.Subscript):
            base = n.value
            if isinstance(base, ast.Name) and base.id in ("params", "grads", "da"):
                key = _key(n.slice)
                if key is None:
                    raise ValueError("key")
                symbol = _parameter(key) if base.id != "da" else f"a_{_GATE_KEYS.get(key, key)}"
                return {"params": symbol, "grads": f"d{symbol}", "da": f"δ{symbol}"}[base.id]
            index = _index(n.slice, names)
            if isinstance(base, ast.Name) and index is not None and base.id in names:
                stem = names[base.id]
                return f"{stem}_{index}" if len(index) == 1 else f"{stem}_{{{index}}}"
            raise ValueError("subscript")
        raise ValueError(type(n).__name__)

    try:
        return go(node)
    except (ValueError, AttributeError, TypeError):
        return None


def statement_formula(statement: ast.stmt, function: str, part: str) -> str | None:
    """The line ``statement`` as a formula in the notebook's notation (None when it cannot be said)."""
    if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
        if isinstance(statement.targets[0], ast.Name) and statement.targets[0].id.endswith("_prev"):
            return None  # the state handed to the next step: as a formula it would read h_{t-1} = ... h_{t-1}
        left, right = notation(statement.targets[0], part), notation(statement.value, part)
        return f"{left} = {right}" if left and right and left != right else None
    if isinstance(statement, ast.AugAssign) and isinstance(statement.op, (ast.Add, ast.Sub)):
        left, right = notation(statement.target, part), notation(statement.value, part)
        return f"{left} {'+' if isinstance(statement.op, ast.Add) else '-'}= {right}" if left and right else None
    if isinstance(statement, ast.Return) and statement.value is not None and function in RESULTS:
        right = notation(statement.value, part)
        return f"{RESULTS[function]} = {right}" if right else None
    return None


def dict_entry_formula(key: ast.AST, value: ast.AST, part: str) -> str | None:
    """An entry of a dict literal such as ``da = {"f": ...}``: ``δa_f = ...``."""
    name, right = _key(key), notation(value, part)
    return f"δa_{_GATE_KEYS.get(name, name)} = {right}" if name and right else None
