#!/usr/bin/env python3
"""Print the names of the folders directly inside DIR, one per line (hidden ones left out).

meson uses it to refuse a mechanism or load generator folder that is missing
from its list (mechanisms/meson.build, loadgen/meson.build).
"""
import os
import sys

top = sys.argv[1]
for name in sorted(os.listdir(top)):
    if not name.startswith(".") and os.path.isdir(os.path.join(top, name)):
        print(name)
