"""Stands in for the decorator the codeflash client puts on async targets itself
(codeflash's ASYNC_HELPER_INLINE_CODE): it reads the line id from the environment and prints its
own markers, so the server-side wrapper must only pass the call through."""

import os
from functools import wraps


def codeflash_behavior_async(func):
    @wraps(func)
    async def async_wrapper(*args, **kwargs):
        line_id = os.environ["CODEFLASH_CURRENT_LINE_ID"]
        print(f"!$######client-decorator:{func.__name__}:{line_id}######$!")
        return await func(*args, **kwargs)

    return async_wrapper
