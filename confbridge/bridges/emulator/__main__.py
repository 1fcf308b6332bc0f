"""``python -m confbridge.bridges.emulator`` = ``confbridge mcu-emulator`` (no other packages needed)."""

from confbridge.bridges.cli import mcu_emulator

if __name__ == "__main__":
    mcu_emulator(prog_name="mcu-emulator")
