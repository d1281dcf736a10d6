# Data: the synthetic default (generated) and the one normalised table every reader returns.


if SYNTHETIC:

    rule synthetic_subject:
        output:
            frames=[directory(p) for p in synthetic_frames_pattern()],
            truth=GENERATED_TRUTH,
        log:
            f"{RESULTS}/logs/synthetic_subject/{{subject}}.log",
        benchmark:
            f"{RESULTS}/benchmarks/synthetic_subject/{{subject}}.tsv"
        conda:
            "../../envs/preprocess.yaml"
        threads: config["threads"]["generate"]
        params:
            data_root=readers_root,
            subject_index=lambda wildcards: SUBJECT_INDEX[wildcards.subject],
            # Only what shapes this subject's frames: the subject count is left out, so
            # adding a subject regenerates nothing else; so are the training settings
            # (train overrides, stage1_input).
            preset={
                k: v
                for k, v in PRESET.items()
                if k not in ("subjects", "train", "stage1_input")
            },
            # Nor the emotion labels (synthetic_workbook's): no frame depends on them.
            synthetic={
                k: v
                for k, v in config["synthetic"].items()
                if k not in ("presets", "emotions")
            },
            fps=config["datasets"][LAYOUT]["fps"],
            face_size=config["preprocess"]["face_size"],
            seed=config["seed"],
        script:
            "../scripts/synthetic_subject.py"

    rule synthetic_workbook:
        input:
            truth=expand(GENERATED_TRUTH, subject=SUBJECTS),
        output:
            workbooks=ANNOTATION_FILES,
            csv=f"{READERS_ROOT}/ground_truth.csv",
        log:
            f"{RESULTS}/logs/synthetic_workbook.log",
        benchmark:
            f"{RESULTS}/benchmarks/synthetic_workbook.tsv"
        conda:
            "../../envs/preprocess.yaml"
        threads: 1
        params:
            layout=LAYOUT,
            # The layout's labels only: another layout's table changes nothing here.
            emotions={
                "decides": config["synthetic"]["emotions"]["decides"],
                "labels": {LAYOUT: config["synthetic"]["emotions"]["labels"][LAYOUT]},
            },
        script:
            "../scripts/synthetic_workbook.py"


rule annotations:
    input:
        **annotation_inputs(),
    output:
        videos=VIDEO_TABLE,
        annotations=ANNOTATIONS,
    log:
        f"{RESULTS}/logs/annotations.log",
    benchmark:
        f"{RESULTS}/benchmarks/annotations.tsv"
    conda:
        "../../envs/preprocess.yaml"
    threads: 1
    params:
        reader=READER,
        data_root=readers_root,
        # Without the emotion mapping: the emotions rule applies it.
        reader_cfg=READER_CFG,
    script:
        "../scripts/annotations.py"


rule emotions:
    input:
        annotations=ANNOTATIONS,
    output:
        EMOTIONS,
    log:
        f"{RESULTS}/logs/emotions.log",
    benchmark:
        f"{RESULTS}/benchmarks/emotions.tsv"
    conda:
        "../../envs/preprocess.yaml"
    threads: 1
    params:
        dataset=READER,
        mapping=EMOTION_MAP,
    script:
        "../scripts/emotions.py"
