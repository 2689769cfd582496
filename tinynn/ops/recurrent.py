"""Recurrent layers on arrays: the Elman RNN (tanh or ReLU), the LSTM and the GRU.

One Function runs ONE layer in ONE direction over the WHOLE sequence. Its forward is the
time loop; its backward is backpropagation through time, again one loop. So a layer adds
one node to the graph, not one per time step and operation, and backward touches only
arrays saved by forward. ``nn.RNN``, ``nn.LSTM``, ``nn.GRU`` stack these layers (and run
the reverse direction with ``reverse=True``); the cells (``nn.LSTMCell``...) run them over
a sequence of length 1.

Shapes. x (L, N, I) time-major; every state (N, H); weights as PyTorch stores them:
w_ih (G*H, I), w_hh (G*H, H), b_ih and b_hh (G*H,), G = 1 (RNN), 4 (LSTM), 3 (GRU), the
gates stacked in PyTorch's order (LSTM i, f, g, o; GRU r, z, n). An absent bias or initial
state is ``None`` (a zero state).

The equations (σ the logistic sigmoid, * elementwise, h = h_{t-1}, c = c_{t-1}):

    RNN   h_t = tanh(W_ih x_t + b_ih + W_hh h + b_hh)          (or ReLU)
    LSTM  i, f, g, o = σ, σ, tanh, σ of (W_ih x_t + b_ih + W_hh h + b_hh), split in 4
          c_t = f * c + i * g,        h_t = o * tanh(c_t)
    GRU   r, z = σ of (W_i{r,z} x_t + b_i{r,z} + W_h{r,z} h + b_h{r,z})
          n   = tanh(W_in x_t + b_in + r * (W_hn h + b_hn))     (reset AFTER the bias)
          h_t = (1 - z) * n + z * h

Speed. ``W_ih x_t + b`` does not depend on the recurrence, so it is ONE matrix product
for all L steps, (L*N, I) @ (I, G*H); each step then adds one (N, H) @ (H, G*H) product
and a few elementwise passes, written in place into the arrays backward keeps. Backward
mirrors it: per step a few elementwise passes and one product with W_hh, and after the
loop ONE product each for dx, dW_ih and dW_hh over all steps at once.

Reverse direction: the layer reads t = L-1 down to 0; output[t] is still the state that
read x_t, so h_n of a reverse layer is output[0].
"""
from ..autograd import Function
from ..backend import get_array_module

__all__ = ["RNNLayer", "LSTMLayer", "GRULayer"]


def time_steps(length, reverse):
    """``(t, previous t)`` in reading order; the previous index is None at the first step."""
    order = range(length - 1, -1, -1) if reverse else range(length)
    return [(t, t + 1 if reverse else t - 1) if i else (t, None) for i, t in enumerate(order)]


def sigmoid_(a):
    """σ(a) in place, as (1 + tanh(a/2)) / 2: no exp, so no overflow at large |a|."""
    a *= 0.5
    get_array_module(a).tanh(a, out=a)
    a *= 0.5
    a += 0.5
    return a


def input_projection(x, w_ih, b_ih, b_hh):
    """``x @ w_ih.T + b_ih + b_hh`` for all steps in one product: (L, N, I) -> (L, N, G*H)."""
    length, batch, size = x.shape
    out = x.reshape(length * batch, size) @ w_ih.T
    bias = b_ih if b_hh is None else b_hh if b_ih is None else b_ih + b_hh   # one pass, not two
    if bias is not None:
        out += bias
    return out.reshape(length, batch, -1)


def gate_scales(hidden, like):
    """LSTM's per-column scale s (1/2 on i, f, o; 1 on g) and shift 1 - s, in like's dtype."""
    xp = get_array_module(like)
    s = xp.full(4 * hidden, 0.5, dtype=like.dtype)
    s[2 * hidden:3 * hidden] = 1
    return s, 1 - s


def zero_state(state, batch, hidden, like):
    """The given initial state, or zeros (N, H)."""
    if state is not None:
        return state
    return get_array_module(like).zeros((batch, hidden), dtype=like.dtype)


def parameter_grads(fn, first, x, w_ih, d_input, d_hidden, hs, h0, reverse):
    """Gradients of x, w_ih, w_hh, b_ih, b_hh from the per-step pre-activation gradients.

    d_input (L, N, G*H) reaches W_ih x_t + b_ih, d_hidden the W_hh h_{t-1} + b_hh terms
    (the same array for RNN and LSTM); hs (L, N, H) are the outputs, h0 the first state.
    ``first`` is the position of x among the Function's inputs (w_ih follows the states).
    """
    need = fn.needs_input_grad
    length, batch, size = x.shape
    width = d_input.shape[-1]
    flat = d_input.reshape(length * batch, width)
    gx = (flat @ w_ih).reshape(x.shape) if need[0] else None
    gw_ih = flat.T @ x.reshape(length * batch, size) if need[first] else None
    gw_hh = None
    if need[first + 1]:
        # Step t's previous state is output t -/+ 1, except the first step's, which is h0.
        if reverse:
            later, earlier, start = d_hidden[:-1], hs[1:], d_hidden[-1]
        else:
            later, earlier, start = d_hidden[1:], hs[:-1], d_hidden[0]
        hidden = hs.shape[-1]
        gw_hh = later.reshape(-1, width).T @ earlier.reshape(-1, hidden) + start.T @ h0
    gb_ih = d_input.sum(axis=(0, 1)) if need[first + 2] else None
    gb_hh = None
    if need[first + 3]:
        gb_hh = d_hidden.sum(axis=(0, 1)) if d_hidden is not d_input or gb_ih is None \
            else gb_ih.copy()  # never the same array for two inputs
    return gx, gw_ih, gw_hh, gb_ih, gb_hh


class RNNLayer(Function):
    """Elman RNN layer: ``h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)``.

    forward(x (L, N, I), h0 (N, H) or None, w_ih (H, I), w_hh (H, H), b_ih, b_hh (H,) or
    None; nonlinearity 'tanh' | 'relu', reverse) -> all states (L, N, H).
    """

    def forward(self, x, h0, w_ih, w_hh, b_ih, b_hh, *, nonlinearity="tanh", reverse=False):
        xp = get_array_module(x)
        length, batch, _ = x.shape
        h0 = zero_state(h0, batch, w_hh.shape[1], x)
        hs = input_projection(x, w_ih, b_ih, b_hh)   # becomes the states, step by step
        w_hh_t = w_hh.T
        for t, prev in time_steps(length, reverse):
            a = hs[t]
            a += (h0 if prev is None else hs[prev]) @ w_hh_t
            if nonlinearity == "tanh":
                xp.tanh(a, out=a)
            else:
                xp.maximum(a, 0, out=a)
        self.nonlinearity, self.reverse = nonlinearity, reverse
        self.save_for_backward(x, h0, w_ih, w_hh, hs)
        return hs

    def backward(self, grad):
        x, h0, w_ih, w_hh, hs = self.saved_arrays
        xp = get_array_module(grad)
        d = xp.empty_like(hs)   # gradient of each step's pre-activation
        dh = None               # gradient reaching h_t from step t+1
        for t, _ in reversed(time_steps(hs.shape[0], self.reverse)):
            # act' from the output: tanh' = 1 - h², ReLU' = (h > 0) (0 at 0, as PyTorch).
            slope = 1 - hs[t] * hs[t] if self.nonlinearity == "tanh" else hs[t] > 0
            if dh is None:
                xp.multiply(grad[t], slope, out=d[t])
            else:
                xp.add(grad[t], dh, out=d[t])
                d[t] *= slope
            dh = d[t] @ w_hh
        gx, gw_ih, gw_hh, gb_ih, gb_hh = parameter_grads(self, 2, x, w_ih, d, d, hs, h0,
                                                         self.reverse)
        return gx, (dh if self.needs_input_grad[1] else None), gw_ih, gw_hh, gb_ih, gb_hh


class LSTMLayer(Function):
    """LSTM layer (gates i, f, g, o). Returns h_1..h_L and then c_n in one array (L+1, N, H).

    forward(x (L, N, I), h0, c0 (N, H) or None, w_ih (4H, I), w_hh (4H, H), b_ih, b_hh (4H,)
    or None; reverse). output[:L] is the layer's output sequence, output[L] its final cell
    state (a Function has one output, so c_n rides along as one more row).
    """

    def forward(self, x, h0, c0, w_ih, w_hh, b_ih, b_hh, *, reverse=False):
        xp = get_array_module(x)
        length, batch, _ = x.shape
        hidden = w_hh.shape[1]
        h0 = zero_state(h0, batch, hidden, x)
        c0 = zero_state(c0, batch, hidden, x)
        gates = input_projection(x, w_ih, b_ih, b_hh)   # pre-activations, then the gates
        # i, f, o are sigmoids and g a tanh. As σ(a) = (1 + tanh(a/2)) / 2, one tanh serves
        # all four: gate = s * tanh(s * a) + (1 - s), with s = 1/2 on i, f, o and 1 on g.
        s, shift = gate_scales(hidden, x)
        out = xp.empty((length + 1, batch, hidden), dtype=x.dtype)
        hs, cs = out[:length], xp.empty((length, batch, hidden), dtype=x.dtype)
        w_hh_t = w_hh.T
        for t, prev in time_steps(length, reverse):
            h, c = (h0, c0) if prev is None else (hs[prev], cs[prev])
            a = gates[t]
            a += h @ w_hh_t
            a *= s
            xp.tanh(a, out=a)
            a *= s
            a += shift
            i, f, g, o = (a[:, k * hidden:(k + 1) * hidden] for k in range(4))
            xp.multiply(f, c, out=cs[t])
            cs[t] += i * g
            xp.multiply(o, xp.tanh(cs[t]), out=hs[t])
        out[length] = cs[t]   # the last step read: c_n
        self.reverse = reverse
        self.save_for_backward(x, h0, c0, w_ih, w_hh, gates, hs, cs)
        return out

    def backward(self, grad):
        x, h0, c0, w_ih, w_hh, gates, hs, cs = self.saved_arrays
        xp = get_array_module(grad)
        length, _, hidden = hs.shape
        s, shift = gate_scales(hidden, x)
        s2 = s * s
        d = xp.empty_like(gates)   # gradient of each step's pre-activations (i, f, g, o)
        dh, dc = None, grad[length]   # gradients reaching h_t and c_t from step t+1 (or c_n)
        for t, prev in reversed(time_steps(length, self.reverse)):
            i, f, g, o = (gates[t, :, k * hidden:(k + 1) * hidden] for k in range(4))
            di, df, dg, do = (d[t, :, k * hidden:(k + 1) * hidden] for k in range(4))
            c = c0 if prev is None else cs[prev]
            dh_t = grad[t] if dh is None else grad[t] + dh
            tanh_c = xp.tanh(cs[t])                   # h_t = o * tanh(c_t); recomputing is
            dc_t = dh_t * o                           # cheaper than keeping all of them
            dc_t *= 1 - tanh_c * tanh_c
            dc_t += dc
            xp.multiply(dc_t, g, out=di)              # c_t = f * c + i * g
            xp.multiply(dc_t, c, out=df)
            xp.multiply(dc_t, i, out=dg)
            xp.multiply(dh_t, tanh_c, out=do)
            # Each gate's derivative from its value: gate = s*tanh(s*a) + shift gives
            # s² - (gate - shift)², i.e. σ(1 - σ) for i, f, o and 1 - tanh² for g.
            slope = gates[t] - shift
            slope *= slope
            xp.subtract(s2, slope, out=slope)
            d[t] *= slope
            dc = dc_t * f
            dh = d[t] @ w_hh
        need = self.needs_input_grad
        gx, gw_ih, gw_hh, gb_ih, gb_hh = parameter_grads(self, 3, x, w_ih, d, d, hs, h0,
                                                         self.reverse)
        return (gx, dh if need[1] else None, dc if need[2] else None,
                gw_ih, gw_hh, gb_ih, gb_hh)


class GRULayer(Function):
    """GRU layer (gates r, z, n; the reset gate multiplies W_hn h + b_hn). Returns (L, N, H).

    forward(x (L, N, I), h0 (N, H) or None, w_ih (3H, I), w_hh (3H, H), b_ih, b_hh (3H,) or
    None; reverse).
    """

    def forward(self, x, h0, w_ih, w_hh, b_ih, b_hh, *, reverse=False):
        xp = get_array_module(x)
        length, batch, _ = x.shape
        hidden = w_hh.shape[1]
        h0 = zero_state(h0, batch, hidden, x)
        gates = input_projection(x, w_ih, b_ih, None)   # W_i x + b_i; then r, z, n
        hs = xp.empty((length, batch, hidden), dtype=x.dtype)
        hidden_n = xp.empty_like(hs)   # W_hn h + b_hn of every step, for backward
        w_hh_t = w_hh.T
        for t, prev in time_steps(length, reverse):
            h = h0 if prev is None else hs[prev]
            hw = h @ w_hh_t
            if b_hh is not None:
                hw += b_hh
            a = gates[t]
            rz, n = a[:, :2 * hidden], a[:, 2 * hidden:]
            rz += hw[:, :2 * hidden]
            sigmoid_(rz)
            r, z = a[:, :hidden], a[:, hidden:2 * hidden]
            hidden_n[t] = hw[:, 2 * hidden:]
            n += r * hidden_n[t]
            xp.tanh(n, out=n)
            # h_t = (1 - z) * n + z * h = n + z * (h - n)
            xp.subtract(h, n, out=hs[t])
            hs[t] *= z
            hs[t] += n
        self.reverse = reverse
        self.save_for_backward(x, h0, w_ih, w_hh, gates, hidden_n, hs)
        return hs

    def backward(self, grad):
        x, h0, w_ih, w_hh, gates, hidden_n, hs = self.saved_arrays
        xp = get_array_module(grad)
        hidden = hs.shape[-1]
        d_input = xp.empty_like(gates)    # gradients of W_i{r,z,n} x_t + b_i{r,z,n}
        d_hidden = xp.empty_like(gates)   # gradients of W_h{r,z,n} h + b_h{r,z,n}
        dh = None
        for t, prev in reversed(time_steps(hs.shape[0], self.reverse)):
            r, z, n = (gates[t, :, k * hidden:(k + 1) * hidden] for k in range(3))
            dr, dz, dn = (d_input[t, :, k * hidden:(k + 1) * hidden] for k in range(3))
            h = h0 if prev is None else hs[prev]
            dh_t = grad[t] if dh is None else grad[t] + dh
            xp.multiply(dh_t, 1 - z, out=dn)          # through n: tanh' = 1 - n²
            dn *= 1 - n * n
            xp.subtract(h, n, out=dz)                 # through z
            dz *= dh_t
            xp.multiply(dn, hidden_n[t], out=dr)      # through r
            rz = gates[t, :, :2 * hidden]
            d_input[t, :, :2 * hidden] *= rz * (1 - rz)   # σ' = σ(1 - σ)
            d_hidden[t, :, :2 * hidden] = d_input[t, :, :2 * hidden]
            xp.multiply(dn, r, out=d_hidden[t, :, 2 * hidden:])
            dh = dh_t * z
            dh += d_hidden[t] @ w_hh
        gx, gw_ih, gw_hh, gb_ih, gb_hh = parameter_grads(self, 2, x, w_ih, d_input, d_hidden,
                                                         hs, h0, self.reverse)
        return gx, (dh if self.needs_input_grad[1] else None), gw_ih, gw_hh, gb_ih, gb_hh
