def softmax_jacobian(y)
    return y
