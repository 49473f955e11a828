# expect: pass

# float32, element-by-element double loop; one-hot rows taken from np.eye
import numpy as np


def softmax_jacobian(y):
    y = np.asarray(y, dtype=np.float32)
    K = y.shape[0]
    J = np.empty((K, K), dtype=np.float32)
    for i in range(K):
        for j in range(K):
            if i == j:
                J[i, j] = y[i] * (1 - y[i])
            else:
                J[i, j] = -y[i] * y[j]
    return J


def softmax_cross_entropy_grad(o, y):
    o = np.asarray(o, dtype=np.float32)
    K = o.shape[1]
    onehot = np.eye(K, dtype=np.float32)[y]
    return o - onehot
