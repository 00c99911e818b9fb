"""Functions the instrumented tests call (the "code under optimization")."""

import asyncio


def find_duplicates(items):
    duplicates = []
    for i in range(len(items)):
        for j in range(i + 1, len(items)):
            if items[i].lower() == items[j].lower() and items[i] not in duplicates:
                duplicates.append(items[i])
    return duplicates


def sort_in_place(values):
    values.sort()
    return len(values)


class Cart:
    def __init__(self, prices):
        self.prices = list(prices)

    def total(self, tax=0):
        return sum(self.prices) + tax


async def fetch_double(x):
    await asyncio.sleep(0)
    if x < 0:
        raise ValueError("negative")
    return 2 * x
