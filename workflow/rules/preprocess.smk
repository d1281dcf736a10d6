# Preprocessing, one job per video: landmarks -> aligned faces -> flow feature stores, and the
# training-free spotter's ROI motion curves.
# Freshness of external frames comes from a cheap fingerprint param, never from listing frames.


rule landmarks:
    input:
        frames=frames_input,
    output:
        LANDMARKS,
    log:
        f"{RESULTS}/logs/landmarks/{{video}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/landmarks/{{video}}.tsv"
    conda:
        "../../envs/preprocess.yaml"
    threads: config["threads"]["landmarks"]
    params:
        **GAP_PARAMS,
        source=video_source,
        fingerprint=frames_fingerprint,
        search_frames=config["preprocess"]["landmarks"]["search_frames"],
        upsample=config["preprocess"]["landmarks"]["upsample"],
    script:
        "../scripts/landmarks.py"


rule faces:
    input:
        frames=frames_input,
        landmarks=LANDMARKS,
    output:
        directory(FACES_STORE),
    log:
        f"{RESULTS}/logs/faces/{{video}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/faces/{{video}}.tsv"
    conda:
        "../../envs/preprocess.yaml"
    threads: config["threads"]["faces"]
    params:
        **GAP_PARAMS,
        source=video_source,
        fingerprint=frames_fingerprint,
        size=config["preprocess"]["face_size"],
        interpolation=config["preprocess"]["face_interpolation"],
        chunk=config["preprocess"]["chunk_frames"],
    script:
        "../scripts/faces.py"


rule stage1_features:
    input:
        faces=FACES_STORE,
    output:
        directory(STAGE1_STORE),
    log:
        f"{RESULTS}/logs/stage1_features/K{{K}}/{{video}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/stage1_features/K{{K}}/{{video}}.tsv"
    wildcard_constraints:
        K=r"\d+",
    priority: PRIORITY["stage1_features"]
    conda:
        "../../envs/preprocess.yaml"
    threads: config["threads"]["flow"]
    resources:
        gpu=FLOW_GPUS,
    params:
        kind="skip",
        step=lambda wildcards: int(wildcards.K),
        flow=FLOW,
        features=config["preprocess"]["features"],
        chunk=config["preprocess"]["chunk_frames"],
    script:
        "../scripts/flow_features.py"


rule stage2_features:
    input:
        faces=FACES_STORE,
    output:
        directory(STAGE2_STORE),
    log:
        f"{RESULTS}/logs/stage2_features/{{video}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/stage2_features/{{video}}.tsv"
    priority: PRIORITY["stage2_features"]
    conda:
        "../../envs/preprocess.yaml"
    threads: config["threads"]["flow"]
    resources:
        gpu=FLOW_GPUS,
    params:
        kind="stride",
        step=config["preprocess"]["stage2_stride"],
        flow=FLOW,
        features=config["preprocess"]["features"],
        chunk=config["preprocess"]["chunk_frames"],
    script:
        "../scripts/flow_features.py"


rule roi_curves:
    input:
        faces=FACES_STORE,
        # The video's fps (the gaps are in seconds). ancient: a ground-truth edit rewrites the
        # table but changes no fps; the dataset's fps is a param below.
        videos=ancient(VIDEO_TABLE),
    output:
        ROI_CURVES,
    log:
        f"{RESULTS}/logs/roi_curves/{{video}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/roi_curves/{{video}}.tsv"
    conda:
        "../../envs/preprocess.yaml"
    threads: config["threads"]["flow"]
    params:
        video=lambda wildcards: wildcards.video,
        gaps_s=ROI_GAPS,
        # The dataset's configured fps (none for a sheet, whose fps is per video).
        fps=config["datasets"][READER].get("fps"),
        rois=ROI["rois"],
        roi_margin=ROI["roi_margin"],
        flow=ROI_FLOW,
        features=ROI_GEOMETRY,
        chunk=config["preprocess"]["chunk_frames"],
    script:
        "../scripts/roi_curves.py"
