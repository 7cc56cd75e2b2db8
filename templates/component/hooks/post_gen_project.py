"""Keeps the chosen kind's files: cookiecutter has rendered the project with every kind's
folder under kinds/; this moves kinds/<kind>/ into the project, each file over the common
file of the same path if there is one, and removes kinds/. `sluice new` renders the same
files without this step (sluice-template.json: "files_by_choice")."""
import os
import shutil

chosen = os.path.join("kinds", "{{cookiecutter.kind}}")
for folder, _, files in os.walk(chosen):
    for name in files:
        source = os.path.join(folder, name)
        target = os.path.relpath(source, chosen)
        os.makedirs(os.path.dirname(target) or ".", exist_ok=True)
        os.replace(source, target)
shutil.rmtree("kinds")
