# Upstream's published weights instead of training (config models=upstream): one job converts
# the checkout's folds of this dataset's configs into our checkpoints, laid out as the trained
# folds (upstream_models/<config>/<held-out subject>/); the spot rule takes them from there.


if UPSTREAM:

    rule import_upstream:
        input:
            UPSTREAM.files(CONFIGS),
        output:
            upstream_outputs(),
        log:
            f"{RESULTS}/logs/import_upstream.log",
        benchmark:
            f"{RESULTS}/benchmarks/import_upstream.tsv"
        conda:
            "../../envs/model.yaml"
        threads: 1
        params:
            checkout=lambda wildcards: str(UPSTREAM.checkout),
            out=lambda wildcards: UPSTREAM_MODELS,
            configs=CONFIGS,
            # What the import reads of the config (tsmsnet.steps.upstream.import_sections):
            # a change re-imports; nothing else of the config does.
            sections=upstream_sections(),
        script:
            "../scripts/import_upstream.py"
