# Report material (`snakemake --report report.html`): F1 tables, score curves per fold, training
# losses per config. And the paper figures (`snakemake dag`): rule graph and collapsed job DAG.


rule f1_tables:
    input:
        metrics_all=f"{EVALUATION}/metrics_all.json",
        per_config=f"{EVALUATION}/per_config.csv",
        per_fold=f"{EVALUATION}/per_fold.csv",
    output:
        pooled=report(
            f"{RESULTS}/report/f1_pooled.html",
            caption="../report/f1_pooled.rst",
            category="1. F1 scores",
            labels={"table": "pooled over all videos"},
        ),
        per_config=report(
            f"{RESULTS}/report/f1_per_config.html",
            caption="../report/f1_per_config.rst",
            category="1. F1 scores",
            labels={"table": "per spotting config"},
        ),
        per_fold=report(
            f"{RESULTS}/report/f1_per_fold.html",
            caption="../report/f1_per_fold.rst",
            category="1. F1 scores",
            labels={"table": "per fold"},
        ),
        chart=report(
            f"{RESULTS}/report/f1.png",
            caption="../report/f1_chart.rst",
            category="1. F1 scores",
            labels={"table": "chart, pooled"},
        ),
    log:
        f"{RESULTS}/logs/report/f1_tables.log",
    benchmark:
        f"{RESULTS}/benchmarks/report/f1_tables.tsv"
    conda:
        "../../envs/model.yaml"
    threads: 1
    params:
        dataset=DATASET,
        models=MODELS_LINE,
    script:
        "../scripts/f1_tables.py"


rule score_plot:
    input:
        # One lane per evaluated method (METHODS), named by the method.
        **{method: f"{SPOTTING}/{method}.csv" for method in METHODS},
        scores=f"{SPOTTING}/scores.csv",
        annotations=ANNOTATIONS,
    output:
        report(
            f"{RESULTS}/report/scores/{{config}}/{{subject}}.png",
            caption="../report/score_plot.rst",
            category="2. Score curves",
            subcategory="{config}",
            labels={"config": "{config}", "held-out subject": "{subject}"},
        ),
    log:
        f"{RESULTS}/logs/report/score_plot/{{config}}/{{subject}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/report/score_plot/{{config}}/{{subject}}.tsv"
    conda:
        "../../envs/model.yaml"
    threads: 1
    params:
        videos=test_videos,
        spot=spot_settings,
        held_out=held_out,
        methods=METHODS,
    script:
        "../scripts/score_plot.py"


rule loss_plot:
    input:
        apex=expand(
            f"{MODELS}/apex_losses.csv",
            subject=SUBJECTS,
            allow_missing=True,
        ),
        interval=expand(
            f"{MODELS}/interval_losses.csv",
            subject=SUBJECTS,
            allow_missing=True,
        ),
    output:
        report(
            f"{RESULTS}/report/losses/{{config}}.png",
            caption="../report/loss_plot.rst",
            category="3. Training",
            labels={"config": "{config}"},
        ),
    log:
        f"{RESULTS}/logs/report/loss_plot/{{config}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/report/loss_plot/{{config}}.tsv"
    conda:
        "../../envs/model.yaml"
    threads: 1
    params:
        folds=SUBJECTS,
        config_name=config_name,
    script:
        "../scripts/loss_plot.py"


# Not part of `all`: `snakemake dag` draws the figures of this dataset's workflow.
rule dag:
    output:
        rulegraph=multiext(f"{RESULTS}/figures/rulegraph", ".dot", ".svg", ".pdf"),
        dag=multiext(f"{RESULTS}/figures/dag", ".dot", ".svg", ".pdf"),
    log:
        f"{RESULTS}/logs/dag.log",
    benchmark:
        f"{RESULTS}/benchmarks/dag.tsv"
    conda:
        "../../envs/figures.yaml"
    threads: 1
    params:
        snakefile=workflow.main_snakefile,
        # The inner snakemake gets this very config (dumped to a file, --configfile).
        config=config,
        subject_of_video=SUBJECT_OF,
        show_subject=SUBJECTS[0],
    script:
        "../scripts/dag.py"
