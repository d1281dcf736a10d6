# F1 logs under the MEGC protocol: step 2 (final), step 1 (ablation), classical reference.


rule evaluate:
    input:
        annotations=f"{RESULTS}/annotations.csv",
        videos=f"{RESULTS}/videos.csv",
        step1=fold_outputs("step1"),
        step2=fold_outputs("step2"),
        classical=fold_outputs("classical"),
    output:
        metrics=f"{RESULTS}/evaluation/metrics.json",
        all_metrics=f"{RESULTS}/evaluation/metrics_all.json",
        summary=f"{RESULTS}/evaluation/summary.txt",
        per_fold=f"{RESULTS}/evaluation/per_fold.csv",
        per_config=f"{RESULTS}/evaluation/per_config.csv",
        per_video=f"{RESULTS}/evaluation/per_video.csv",
    log:
        f"{RESULTS}/logs/evaluate.log",
    benchmark:
        f"{RESULTS}/benchmarks/evaluate.tsv"
    conda:
        "../../envs/model.yaml"
    threads: 1
    script:
        "../scripts/evaluate.py"
