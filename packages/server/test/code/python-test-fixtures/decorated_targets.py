import asyncio

from codeflash_async_wrapper import codeflash_behavior_async


@codeflash_behavior_async
async def fetch_double(x):
    await asyncio.sleep(0)
    return 2 * x
