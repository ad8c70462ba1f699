// io/: images, IDX files, datasets and the DataLoader, safetensors, checkpoints, progress bars.
#pragma once
#include "ink/io/checkpoint.hpp"
#include "ink/io/dataset.hpp"
#include "ink/io/file.hpp"
#include "ink/io/idx.hpp"
#include "ink/io/image.hpp"
#include "ink/io/json.hpp"
#include "ink/io/progress.hpp"
#include "ink/io/safetensors.hpp"
