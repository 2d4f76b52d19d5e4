#!/usr/bin/env python3
"""Independent numbers for src/report/ensemble_gain/tests.rs (NumPy 2.4.6):
three seeds' probabilities, each member scored alone, their ensemble, and the
exact bootstrap distribution of the gain over all 27 ordered draws."""
import numpy as np, itertools
from math import factorial
# 3 seeds, 4 examples, 3 classes; probabilities in sixteenths (f32-exact)
P = np.array([
 [[8,4,4],[2,12,2],[4,4,8],[10,3,3]],
 [[4,8,4],[6,6,4],[2,2,12],[3,10,3]],
 [[12,2,2],[4,8,4],[8,4,4],[5,5,6]],
], dtype=np.float64)/16
y = np.array([0,1,2,0])
def score(p):
    loss = -np.mean(np.log(np.maximum(p[np.arange(len(y)), y], 1e-12)))
    acc = np.mean(np.argmax(p, axis=1) == y)  # numpy argmax: first largest
    return loss, acc
own = [score(P[i]) for i in range(3)]
def gains(idx):
    ens = score(P[list(idx)].mean(axis=0))
    mem_loss = np.mean([own[i][0] for i in idx]); mem_acc = np.mean([own[i][1] for i in idx])
    return mem_loss - ens[0], ens[1] - mem_acc
print("own", own)
print("ens", score(P.mean(axis=0)))
print("point gains %.17g %.17g" % gains((0,1,2)))
# exact bootstrap distribution over 27 ordered draws
vals=[gains(d) for d in itertools.product(range(3), repeat=3)]
L=np.array([v[0] for v in vals]); A=np.array([v[1] for v in vals])
print("E loss gain* %.17g sd %.17g" % (L.mean(), L.std()))
print("E acc gain* %.17g sd %.17g" % (A.mean(), A.std()))
print("P(loss gain*<=0) %.6f P(acc gain*<=0) %.6f P(acc>=0) %.6f" % ((L<=1e-15).mean(), (A<=1e-15).mean(), (A>=-1e-15).mean()))
print("distinct loss", sorted(set(np.round(L,12))))
print("distinct acc", sorted(set(np.round(A,12))))
