# F1 logs under the MEGC protocol: step 2 (final), step 1 (ablation), classical reference,
# training-free ROI-flow spotter.


rule evaluate:
    input:
        annotations=ANNOTATIONS,
        videos=VIDEO_TABLE,
        step1=fold_outputs("step1"),
        step2=fold_outputs("step2"),
        classical=fold_outputs("classical"),
        roi_flow=fold_outputs("roi_flow"),
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
        config_types={name: SPOT[name]["type"] for name in CONFIGS},
        # Which models made the predictions (a line of metrics.json and summary.txt).
        models=MODELS_LINE,
    script:
        "../scripts/evaluate.py"
