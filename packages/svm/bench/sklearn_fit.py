"""Times scikit-learn's fit (wall and process CPU time, medians) on the data @ml/svm's bench wrote.

Usage: sklearn_fit.py DIR REPEATS; prints JSON.
"""
import json
import sys
import time

import numpy as np
import sklearn
from sklearn.svm import SVC, SVR

folder, repeats = sys.argv[1], int(sys.argv[2])
cases = json.load(open(f'{folder}/cases.json'))
out = {'sklearn': sklearn.__version__, 'cases': {}}
for case in cases:
    x = np.fromfile(f'{folder}/{case["name"]}.x.bin', dtype='<f8').reshape(case['rows'], case['cols'])
    y = np.fromfile(f'{folder}/{case["name"]}.y.bin', dtype='<f8')
    make = (lambda: SVC(**case['params'])) if case['model'] == 'SVC' else (lambda: SVR(**case['params']))
    make().fit(x, y)  # warm-up
    wall, cpu = [], []
    for _ in range(repeats):
        model = make()
        w0, c0 = time.perf_counter(), time.process_time()
        model.fit(x, y)
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
    median = lambda v: sorted(v)[len(v) // 2]
    out['cases'][case['name']] = {'wall': median(wall), 'cpu': median(cpu), 'n_support': int(len(model.support_))}
print(json.dumps(out))
