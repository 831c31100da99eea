"""scikit-learn's side of @ml/svm's bench: fits on request so the two sides can take turns.

Usage: sklearn_fit.py DIR. Reads DIR/cases.json and the .bin files the bench wrote, prints one JSON line
{"sklearn": version}, then for each case name read from stdin fits once and prints
{"cpu": s, "wall": s, "n_support": n} (process CPU time and wall time of the fit alone).
"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '../../../tooling/bench'))
import blas_arch  # noqa: E402,F401  pins OpenBLAS to the real CPU; must precede torch/numpy

import numpy as np
import sklearn
from sklearn.svm import SVC, SVR

folder = sys.argv[1]
cases = {}
for case in json.load(open(f'{folder}/cases.json')):
    x = np.fromfile(f'{folder}/{case["name"]}.x.bin', dtype='<f8').reshape(case['rows'], case['cols'])
    y = np.fromfile(f'{folder}/{case["name"]}.y.bin', dtype='<f8')
    cases[case['name']] = (case, x, y)
print(json.dumps({'sklearn': sklearn.__version__}), flush=True)
for line in sys.stdin:
    case, x, y = cases[line.strip()]
    model = SVC(**case['params']) if case['model'] == 'SVC' else SVR(**case['params'])
    w0, c0 = time.perf_counter(), time.process_time()
    model.fit(x, y)
    cpu, wall = time.process_time() - c0, time.perf_counter() - w0
    print(json.dumps({'cpu': cpu, 'wall': wall, 'n_support': int(len(model.support_))}), flush=True)
