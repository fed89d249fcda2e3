// The emulated CUB primitives (see cub/block/block_reduce.cuh).
#pragma once

#include "cub/block/block_reduce.cuh"
