"""Bundled device firmware: ``emgfeedback-uno.hex`` is the emgfeedback sketch built for an ATmega328P at 16 MHz.

It runs on an Arduino Uno or Nano (same chip and clock); ``emgfeedback flash`` uploads it. Rebuild it from
``firmware/`` with ``make -C firmware bundle`` (see firmware/README.md and docs/protocol.md).
"""
