"""Shared by the seed generators in this folder: writes named seed inputs into a corpus folder."""
import os


def write_seeds(folder, seeds):
    """Writes each seeds[name] (bytes) to folder/name, creating the folder."""
    os.makedirs(folder, exist_ok=True)
    for name, data in seeds.items():
        with open(os.path.join(folder, name), "wb") as f:
            f.write(data)
