"""The terminal side of stancewatch: the dashboard (Textual) and the command line."""


def main() -> int:
    """The `stancewatch` console script: run the command line.

    `tui.cli` is imported here, not at the top of a module the script
    imports: multiprocessing runs the script that started the program again
    in every parse worker (as `__mp_main__`), so a script importing the
    command line had each worker load asyncio, the config code and their
    dependencies (~0.1 s of CPU) before its first parse.
    """
    import gc

    from tui.cli import main as run

    code = run()
    # Everything still alive is freed at exit anyway; frozen, it is skipped
    # by the interpreter's final collection, which otherwise traverses it all
    # first: after a cold poll round, 86 -> 29 ms from here to the exit.
    gc.freeze()
    return code
