# F1 logs under the MEGC protocol: step 2 (final), step 1 (ablation), classical reference,
# training-free ROI-flow spotter, and step 2 refined (our extension) where the run refines.


rule evaluate:
    # Inputs: one predictions file per fold for each of METHODS, named by the method.
    input:
        unpack(method_outputs),
        annotations=ANNOTATIONS,
        videos=VIDEO_TABLE,
    output:
        metrics=f"{EVALUATION}/metrics.json",
        all_metrics=f"{EVALUATION}/metrics_all.json",
        summary=f"{EVALUATION}/summary.txt",
        per_fold=f"{EVALUATION}/per_fold.csv",
        per_config=f"{EVALUATION}/per_config.csv",
        per_video=f"{EVALUATION}/per_video.csv",
    log:
        f"{RESULTS}/logs/evaluate.log",
    benchmark:
        f"{RESULTS}/benchmarks/evaluate.tsv"
    conda:
        "../../envs/model.yaml"
    threads: 1
    params:
        # (config, held-out subject) of each predictions file, in input order.
        labels=FOLD_LABELS,
        methods=METHODS,
        config_types={name: SPOT[name]["type"] for name in CONFIGS},
        # Which models made the predictions (a line of metrics.json and summary.txt).
        models=MODELS_LINE,
    script:
        "../scripts/evaluate.py"
