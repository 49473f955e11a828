# -*- coding: latin-1 -*-
# café
def update_gate(h_prev, x_t, Wz, bz):
    return bz
