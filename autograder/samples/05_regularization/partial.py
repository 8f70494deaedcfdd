"""A partly correct submission: dropout, L2 and k-fold right; batch normalization normalises
with the batch's statistics at evaluation too (and never updates the running ones); early
stopping not attempted."""

# grade_ids whose cells are copied from the reference solution
SOLVED = ["dropout", "l2", "kfold"]

# grade_ids whose cells get this student's own (wrong) code
WRITTEN = {
    "batchnorm": (
        "class BatchNormalization:\n"
        "    def __init__(self, gamma, beta, momentum=0.9, eps=1e-5):\n"
        "        self.gamma, self.beta = gamma, beta\n"
        "        self.momentum, self.eps = momentum, eps\n"
        "        self.running_mean = np.zeros_like(gamma)\n"
        "        self.running_var = np.ones_like(gamma)\n"
        "        self.dgamma = self.dbeta = None\n"
        "\n"
        "    def forward(self, x, train=True):  # the same in training and evaluation\n"
        "        self.std = np.sqrt(x.var(axis=0) + self.eps)\n"
        "        self.x_hat = (x - x.mean(axis=0)) / self.std\n"
        "        return self.gamma * self.x_hat + self.beta\n"
        "\n"
        "    def backward(self, dout):\n"
        "        n = dout.shape[0]\n"
        "        self.dbeta = dout.sum(axis=0)\n"
        "        self.dgamma = (dout * self.x_hat).sum(axis=0)\n"
        "        return (self.gamma / (n * self.std)) * (\n"
        "            n * dout - self.dbeta - self.x_hat * self.dgamma)\n"
    ),
}
