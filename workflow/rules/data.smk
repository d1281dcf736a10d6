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
            synthetic={k: v for k, v in config["synthetic"].items() if k != "presets"},
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
        reader_cfg=config["datasets"][READER],
    script:
        "../scripts/annotations.py"
