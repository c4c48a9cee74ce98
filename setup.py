from setuptools import find_packages, setup

setup(
    name="tf1_birnn",
    version="0.1.0",
    description="The bidirectional LSTM/GRU tutorial (tf.scan, fused gates) on TensorFlow 2's "
                "tf.compat.v1, with data, training, TensorBoard and a CLI",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    license="GPL-3.0-or-later",  # the tutorial's code is GPL-3.0
    license_files=["LICENSE"],
    classifiers=[
        "License :: OSI Approved :: GNU General Public License v3 or later (GPLv3+)",
        "Programming Language :: Python :: 3",
        "Topic :: Scientific/Engineering :: Artificial Intelligence",
        "Intended Audience :: Education",
    ],
    packages=find_packages(include=["tf1_birnn", "tf1_birnn.*"]),
    package_data={"tf1_birnn": ["resources/*.json"]},
    python_requires=">=3.10",
    # matplotlib draws the trajectory image of TensorBoard and `predict` (axes, legend, names)
    install_requires=["tensorflow>=2.16", "tensorboard", "numpy", "matplotlib"],
    extras_require={
        # progress bars for the CLI (plain lines are printed without it)
        "progress": ["tqdm"],
        "dev": ["pytest", "tqdm", "matplotlib", "nbclient", "nbformat", "ipykernel"],
        "notebooks": ["jupyter", "matplotlib", "tqdm"],
        # peers for `tf1-birnn bench`
        "bench-tf": ["tf_keras"],
        "bench-torch": ["torch==2.13.0"],
    },
    entry_points={"console_scripts": ["tf1-birnn=tf1_birnn.tools.cli:main"]},
)
