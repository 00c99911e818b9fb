"""Runs the test functions of one (instrumented) test file without pytest, then reports.

usage: runner.py TEST_FILE MODULE_NAME [SQLITE_FILE]
Prints the tests' own output, then one line `@@RESULT@@<json>` with each test's outcome and, when
SQLITE_FILE exists, the rows of its test_results table with the pickled values loaded back.
"""

import asyncio
import importlib.util
import inspect
import json
import os
import sqlite3
import sys
import unittest

import dill as pickle


def plain(value):
    if isinstance(value, BaseException):
        return {"exception": type(value).__name__, "args": [plain(arg) for arg in value.args]}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return {"object": type(value).__name__, "state": plain(vars(value))}


def run(outcomes, name, call):
    try:
        result = call()
        if inspect.iscoroutine(result):
            asyncio.run(result)
        outcomes[name] = "passed"
    except Exception as error:
        outcomes[name] = f"failed: {type(error).__name__}: {error}"


def main():
    path, module_name = sys.argv[1], sys.argv[2]
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    outcomes = {}
    for name, obj in list(vars(module).items()):
        if inspect.isfunction(obj) and name.startswith("test") and obj.__module__ == module_name:
            run(outcomes, name, obj)
        elif inspect.isclass(obj) and obj.__module__ == module_name:
            for attr in [a for a in vars(obj) if a.startswith("test")]:
                if issubclass(obj, unittest.TestCase):
                    case = obj(attr)
                    case.setUp()
                    run(outcomes, f"{name}.{attr}", getattr(case, attr))
                    case.tearDown()
                else:
                    run(outcomes, f"{name}.{attr}", getattr(obj(), attr))
    rows = []
    if len(sys.argv) > 3 and os.path.exists(sys.argv[3]):
        con = sqlite3.connect(sys.argv[3])
        for row in con.execute("SELECT * FROM test_results ORDER BY rowid"):
            keys = ["test_module_path", "test_class_name", "test_function_name", "function_getting_tested",
                    "loop_index", "iteration_id", "runtime", "return_value", "verification_type"]
            record = dict(zip(keys, row))
            record["return_value"] = plain(pickle.loads(record["return_value"]))
            rows.append(record)
        con.close()
    sys.stdout.flush()
    print("@@RESULT@@" + json.dumps({"outcomes": outcomes, "rows": rows}))


main()
